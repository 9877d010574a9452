"""Traceability across nodes, all real: the reference top-level node and two nodes, steel (88.118) and automotive
(88.119), as HTTP servers on loopback, each with its own PostgreSQL database and Redis database. Prefixes are
approved through the top-level; a coil made from a slab on the steel node goes into a part on the automotive node;
the part resolves on the steel node and its upstream trace, asked on the automotive node, reaches the slab once
the steel enterprise grants the part maker; the slab's downstream trace, asked on the steel node, reaches the part
through the back-link the automotive node reported, and a door whose materialIds name the coil through a reference
back-link, until the door stops naming it. Node requests that are unsigned, signed by a stranger, stale
or replayed, and back-links of identifiers a node does not own, are refused."""

import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest

from foundation.crypto.keys import ensure_signing_key, load_signing_key
from foundation.crypto.signing import sign
from foundation.federation import NODE_HEADER, node_request
from registry.kernel.syntax import canonical
from resolver.trace.federation import NEIGHBOURS_PATH
from tests.conftest import ADMIN_PASSWORD, redis_database, scratch_database
from tests.factories import coil, onboard
from tests.servers import free_port, running_node, running_toplevel

pytestmark = pytest.mark.timeout(240)


def _transform(inputs: list[str], outputs: list[str], time: str) -> dict:
    return {
        "type": "TransformationEvent",
        "eventTime": time,
        "inputEPCList": inputs,
        "outputEPCList": outputs,
        "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
    }


def _node_env(node_prefix: str, database_url: str, redis_db: int, top: str, port: int) -> dict[str, str]:
    return {
        "SECNODE_NODE_PREFIX": node_prefix,
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": redis_database(redis_db),
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SECNODE_UPSTREAM_URL": top,
        "SECNODE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SECNODE_DATABASE_POOL_SIZE": "4",
    }  # two nodes on the shared server: keep their connections few


async def test_trace_follows_edges_into_another_node(tmp_path: Path):
    steel_dir, auto_dir = tmp_path / "steel", tmp_path / "auto"
    steel_dir.mkdir(), auto_dir.mkdir()
    steel_port, auto_port = free_port(), free_port()
    async with scratch_database() as steel_db, scratch_database() as auto_db:
        with (
            running_toplevel(tmp_path) as top,
            running_node(_node_env("88.118", steel_db, 13, top, steel_port), steel_dir, port=steel_port) as steel,
            running_node(_node_env("88.119", auto_db, 14, top, auto_port), auto_dir, port=auto_port) as auto,
        ):
            async with (
                httpx.AsyncClient(base_url=steel, timeout=30) as s,
                httpx.AsyncClient(base_url=auto, timeout=30) as a,
            ):
                mill = await onboard(s, "mill")  # approved through the top-level
                maker = await onboard(a, "maker", industry="automotive")
                assert mill.prefix.startswith("88.118.") and maker.prefix.startswith("88.119.")

                slab = f"{mill.prefix}/SLAB-1"
                put = await s.put(
                    f"/api/handles/{slab}",
                    headers=mill.handle_admin,
                    json=[{"index": 1, "type": "URL", "data": "https://mill.example/slab/1"}],
                )
                assert put.status_code == 201, put.text
                item = coil(mill.prefix, 1)
                assert (await s.post("/identityv2/data", json=item, headers=mill.headers)).json()["status"] == 1
                coil_id = item["handle"]
                rolled = await s.post(
                    "/epcis/events",
                    headers=mill.headers,
                    json=_transform([slab], [coil_id], "2026-11-20T08:00:00+08:00"),
                )
                assert rolled.status_code == 201, rolled.text

                part = f"{maker.prefix}/PART-1"
                put = await a.put(
                    f"/api/handles/{part}",
                    headers=maker.handle_admin,
                    json=[{"index": 1, "type": "URL", "data": "https://maker.example/part/1"}],
                )
                assert put.status_code == 201, put.text
                stamped = await a.post(
                    "/epcis/events",
                    headers=maker.headers,
                    json=_transform([coil_id], [part], "2026-11-22T08:00:00+08:00"),
                )
                assert stamped.status_code == 201, stamped.text

                resolved = await s.get(f"/api/handles/{part}")
                assert resolved.status_code == 200, resolved.text
                assert resolved.json()["values"][0]["data"]["value"] == "https://maker.example/part/1"

                async def upstream_of_part() -> dict:
                    response = await a.get(f"/trace/upstream?handle={part}", headers=maker.headers)
                    assert response.status_code == 200, response.text
                    return response.json()

                before = await upstream_of_part()
                assert {n["id"]: n["status"] for n in before["nodes"]} == {part: "found", coil_id: "unauthorised"}

                granted = await s.put(f"/epcis/grants/{maker.credit_code}", headers=mill.headers)
                assert granted.status_code == 200, granted.text
                after = await upstream_of_part()
                assert {n["id"]: (n["status"], n["level"]) for n in after["nodes"]} == {
                    part: ("found", 0),
                    coil_id: ("found", 1),
                    slab: ("found", 2),
                }
                edges = {(e["from"], e["to"]): e for e in after["edges"]}
                assert set(edges) == {(coil_id, part), (slab, coil_id)}
                assert edges[(coil_id, part)]["events"] == [_event_id(stamped)]
                assert edges[(slab, coil_id)]["events"] == [_event_id(rolled)]
                assert after["truncated"] is False

                # the other way: the automotive node reported its edge coil -> part to the steel node (back-link),
                # so the mill's downstream trace follows its slab into the part, readable once the maker grants it
                down = await _until(
                    lambda: s.get(f"/trace/downstream?handle={slab}", headers=mill.headers),
                    lambda graph: part in {n["id"] for n in graph["nodes"]},
                )
                assert {n["id"]: n["status"] for n in down["nodes"]} == {
                    slab: "found",
                    coil_id: "found",
                    part: "unauthorised",
                }
                assert {(e["from"], e["to"]): e["events"] for e in down["edges"]}[(coil_id, part)] == [
                    _event_id(stamped)
                ]
                assert (await a.put(f"/epcis/grants/{mill.credit_code}", headers=maker.headers)).status_code == 200
                down = (await s.get(f"/trace/downstream?handle={slab}", headers=mill.headers)).json()
                assert {n["id"]: n["status"] for n in down["nodes"]}[part] == "found"

                await _reference_backlinks(s, a, mill, maker, coil_id)
                await _refusals(s, auto_dir / "secnode-node.key", tmp_path, coil_id)


def _door(handle: str, materials: str) -> dict:
    fields = [
        (2000, "partNo", "DR-FL-01"),
        (2001, "partName", "door"),
        (2002, "batchNo", "B00042"),
        (2003, "supplierCode", "SUP-0042"),
        (2004, "productionDate", "2026-11-22"),
        (2005, "materialIds", materials),
    ]
    return {
        "handle": handle,
        "templateVersion": "auto-part-1.0",
        "value": [{"index": i, "type": t, "data": v} for i, t, v in fields],
    }


async def _reference_backlinks(s: httpx.AsyncClient, a: httpx.AsyncClient, mill, maker, coil_id: str) -> None:
    """A part whose materialIds name the coil is reported to the steel node as a reference link; when the part
    stops naming the coil the link is withdrawn there."""
    door = f"{maker.prefix}/DOOR-1"
    created = await a.post("/identityv2/data", json=_door(door, coil_id), headers=maker.headers)
    assert created.json()["status"] == 1, created.text

    def reaches_door(graph: dict) -> bool:
        return door in {n["id"] for n in graph["nodes"]}

    down = await _until(lambda: s.get(f"/trace/downstream?handle={coil_id}", headers=mill.headers), reaches_door)
    edges = {(e["from"], e["to"]): e for e in down["edges"]}
    assert edges[(coil_id, door)]["kind"] == "reference" and edges[(coil_id, door)]["events"] == []

    updated = await a.post(
        "/identityv2/data/batchUpdate", json=[_door(door, f"{maker.prefix}/SHEET-9")], headers=maker.headers
    )
    assert updated.json()["data"][0]["code"] == 1, updated.text
    await _until(
        lambda: s.get(f"/trace/downstream?handle={coil_id}", headers=mill.headers),
        lambda graph: not reaches_door(graph),
    )


async def _until(ask, done, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = await ask()
        assert response.status_code == 200, response.text
        if done(response.json()):
            return response.json()
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.3)


def _event_id(response: httpx.Response) -> str:
    return response.json()["eventID"]


async def _refusals(steel: httpx.AsyncClient, auto_key_file: Path, tmp_path: Path, coil_id: str) -> None:
    payload = {"direction": "up", "handles": [coil_id], "onBehalfOf": None}

    async def ask(body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await steel.post(NEIGHBOURS_PATH, content=body, headers=headers)

    unsigned = await ask(orjson.dumps(payload), {"Content-Type": "application/json"})
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "federation.unknown_node"

    body, headers = node_request(payload, "88.119", load_signing_key(str(auto_key_file)))
    first = await ask(body, headers)
    assert first.status_code == 200, first.text
    assert first.json()["statuses"] == [{"handle": canonical(coil_id), "status": "unauthorised", "id": coil_id}]
    replayed = await ask(body, headers)
    assert replayed.status_code == 401 and replayed.json()["error"] == "federation.replayed"

    stranger_file = str(tmp_path / "stranger.key")
    ensure_signing_key(stranger_file)
    body, headers = node_request(payload, "88.119", load_signing_key(stranger_file))
    impostor = await ask(body, headers)
    assert impostor.status_code == 401 and impostor.json()["error"] == "federation.bad_signature"
    body, headers = node_request(payload, "88.555", load_signing_key(stranger_file))
    unknown = await ask(body, headers)
    assert unknown.status_code == 401 and unknown.json()["error"] == "federation.unknown_node"

    auto_key = load_signing_key(str(auto_key_file))
    for link, error in [
        ({"handle": coil_id, "neighbour": "88.118.9/X"}, "federation.not_theirs"),
        ({"handle": "88.119.9/Y", "neighbour": "88.119.9/Z"}, "federation.not_ours"),
    ]:
        body, headers = node_request(
            {"links": [{**link, "direction": "down", "event": "e-1", "kind": "transformation"}]}, "88.119", auto_key
        )
        refused = await steel.post("/federation/v1/trace/links", content=body, headers=headers)
        assert refused.json()["error"] == error, refused.text
    # references: only of the sender's own records (it cannot withdraw another node's), only to ours
    for reference, error in [
        ({"source": "88.118.9/X", "targets": []}, "federation.not_theirs"),
        ({"source": "88.119.9/Y", "targets": ["88.119.9/Z"]}, "federation.not_ours"),
        ({"source": "88.119.9/Y", "targets": "88.118.1/A"}, "federation.bad_links"),
    ]:
        body, headers = node_request({"references": [reference]}, "88.119", auto_key)
        refused = await steel.post("/federation/v1/trace/links", content=body, headers=headers)
        assert refused.json()["error"] == error, refused.text

    stale_payload = {**payload, "fromNode": "88.119", "issuedAt": int(time.time()) - 3600, "nonce": "n-stale"}
    stale_body = orjson.dumps(stale_payload)
    stale = await ask(stale_body, {**sign(stale_body, load_signing_key(str(auto_key_file))), NODE_HEADER: "88.119"})
    assert stale.status_code == 401 and stale.json()["error"] == "federation.stale"
