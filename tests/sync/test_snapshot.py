"""Snapshot round trip: every record of a node resolves identically from the reference top-level after import;
a tampered snapshot is refused."""

import httpx
import pytest

from foundation.crypto.keys import ensure_signing_key, load_signing_key
from sync.snapshot import SnapshotInvalid, read_snapshot, write_snapshot
from sync.upstream import HttpUpstream, UpstreamError
from tests.conftest import make_settings
from tests.factories import coil, onboard
from tests.servers import running_toplevel


async def test_snapshot_round_trip(client, fresh_node, database_url, tmp_path):
    tenant = await onboard(client, "snap")
    items = [coil(tenant.prefix, i) for i in range(50)]
    await client.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
    await client.put(
        f"/api/handles/{tenant.prefix}/private",
        headers=tenant.handle_admin,
        json=[
            {"index": 1, "type": "URL", "data": "https://x"},
            {"index": 5, "type": "NOTE", "data": "p", "permissions": "1100"},
        ],
    )
    await client.delete(f"/api/handles/{tenant.prefix}/COIL-2026-000003", headers=tenant.handle_admin)
    key_path = str(tmp_path / "node.key")
    ensure_signing_key(key_path)
    key = load_signing_key(key_path)
    settings = make_settings(database_url)
    data = await write_snapshot(fresh_node, settings.node_prefix, key)
    header, records = read_snapshot(data, key.public_key())
    assert header["nodePrefix"] == settings.node_prefix
    assert all(v["type"] != "HS_SECKEY" for r in records for v in r["values"])
    with pytest.raises(SnapshotInvalid):
        read_snapshot(data.replace(b"Q235B", b"Q235C", 1), key.public_key())

    with running_toplevel(tmp_path) as top:
        upstream = HttpUpstream(top, settings.node_prefix, key)
        await upstream.register("http://127.0.0.1:8000")
        with pytest.raises(UpstreamError, match="bad_snapshot"):
            await upstream.send_snapshot(data.replace(b"Q235B", b"Q235C", 1))
        answer = await upstream.send_snapshot(data)
        assert answer["records"] == len(records)
        for record in records:
            here = (await client.get(f"/api/handles/{record['handle']}")).json()
            there = httpx.get(f"{top}/api/handles/{record['handle']}").json()
            assert there == here
        gone = httpx.get(f"{top}/api/handles/{tenant.prefix}/COIL-2026-000003")
        assert gone.status_code == 404
        await upstream.aclose()
