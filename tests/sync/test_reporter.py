"""The reporter against the reference top-level node running as a real HTTP server: approvals come back, the
journal arrives once and in order, bad signatures and foreign prefixes are refused, an outage loses nothing."""

import httpx
import pytest

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto.keys import ensure_signing_key, load_signing_key
from node.app import create_app
from sync.reporter import Reporter
from sync.upstream import HttpUpstream, UpstreamError
from tests.conftest import make_settings
from tests.factories import admin_headers, application, login
from tests.servers import free_port, running_toplevel

URL = {"index": 1, "type": "URL", "data": "https://example.com"}


async def _tenant_awaiting_upstream(client):
    admin = await admin_headers(client)
    form = application("synced")
    enterprise = (await client.post("/snms/api/v5/enterprises", json=form)).json()["data"]
    await client.post(f"/snms/api/v5/enterprises/{enterprise['id']}/audit", json={"approve": True}, headers=admin)
    user = await login(client, form["username"], form["password"])
    prefix = (await client.post("/snms/api/v5/prefixes", json={}, headers=user)).json()["data"]["prefix"]
    audited = await client.post(f"/snms/api/v5/prefixes/{prefix}/audit", json={"approve": True}, headers=admin)
    assert audited.json()["data"]["state"] == 5  # in audit at the top-level
    return prefix, form


def _reporting_node(db, database_url: str, tmp_path, top: str):
    """A node (not started) reporting to ``top``: its settings, application, upstream client and reporter."""
    key_path = str(tmp_path / "node.key")
    ensure_signing_key(key_path)
    settings = make_settings(database_url, upstream_url=top, node_key_file=key_path, sync_in_serve=False)
    upstream = HttpUpstream(top, settings.node_prefix, load_signing_key(key_path))
    return settings, create_app(settings, db=db), upstream, Reporter(db, settings, upstream, batch=100)


async def test_reporter_round_trip_outage_and_refusals(fresh_node, database_url, tmp_path):
    port = free_port()
    with running_toplevel(tmp_path, port) as top:
        settings, app, upstream, reporter = _reporting_node(fresh_node, database_url, tmp_path, top)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://t"
            ) as client:
                prefix, form = await _tenant_awaiting_upstream(client)
                await upstream.register("http://127.0.0.1:8000")
                await reporter.drain()
                state = (
                    await client.get(f"/snms/api/v5/prefixes/{prefix}", headers=await admin_headers(client))
                ).json()["data"]["state"]
                assert state == 1  # approved by the top-level, enabled through the registry
                homed = httpx.get(f"{top}/v1/homing/{prefix}.7").json()
                assert homed["nodePrefix"] == settings.node_prefix

                basic = httpx.BasicAuth(f"300:{prefix}/admin", form["password"])
                for n in range(30):
                    response = await client.put(f"/api/handles/{prefix}/N{n}", json=[URL], auth=basic)
                    assert response.status_code == 201
                await reporter.drain()
                for _ in range(3):
                    await client.get(f"/api/handles/{prefix}/N1")
                await app.state.resolver.stats.flush()
                await reporter.report_health()
                node = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()
                status = await reporter.status()
                assert status.lag == 0 and node["acknowledged"] == status.last_seq
                created_before = node["entries"]["handle.created"]
                assert node["heartbeat"]["journalLag"] == 0 and node["heartbeat"]["health"] == "ok"
                stats = {s["prefix"]: s for s in node["statistics"]}
                assert stats[prefix]["registrations"] == 30 and stats[prefix]["resolutions"] == 3
                assert "secnode_sync_journal_lag 0.0" in (await client.get("/metrics")).text

                # a key the top-level does not know: refused, nothing moves
                other = str(tmp_path / "other.key")
                ensure_signing_key(other)
                impostor = Reporter(
                    fresh_node, settings, HttpUpstream(top, settings.node_prefix, load_signing_key(other))
                )
                await client.put(f"/api/handles/{prefix}/late", json=[URL], auth=basic)
                with pytest.raises(UpstreamError, match="401"):
                    await impostor.ship_once()
                assert (await reporter.status()).last_error and (await reporter.status()).lag > 0
                # a node reporting a prefix it does not own
                with pytest.raises(UpstreamError, match="sync.foreign_prefix"):
                    await upstream.send_journal(
                        10**9,
                        [{"seq": 10**9 + 1, "kind": "handle.created", "subject": "88.999/x", "subjectKey": "88.999/x"}],
                    )
        await reporter.drain()

    # the top-level is down while registrations go on: nothing is lost, nothing doubled
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://t"
        ) as client:
            for n in range(40):
                response = await client.put(f"/api/handles/{prefix}/D{n}", json=[URL], auth=basic)
                assert response.status_code == 201
    with pytest.raises(UpstreamError, match="unreachable"):
        await reporter.ship_once()
    assert (await reporter.status()).lag >= 40
    with running_toplevel(tmp_path, port) as top:
        await reporter.drain()
        node = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()
    assert node["entries"]["handle.created"] == created_before + 1 + 40
    assert (await reporter.status()).lag == 0
    await upstream.aclose()


async def test_a_restored_journal_moves_past_what_the_top_level_acknowledged(fresh_node, database_url, tmp_path):
    """After a restore to an earlier point, the journal would hand out numbers the top-level already acknowledged
    (and drops as repeats): registering moves the journal past them, so new changes still arrive."""
    from sqlalchemy import text

    with running_toplevel(tmp_path) as top:
        settings, app, upstream, reporter = _reporting_node(fresh_node, database_url, tmp_path, top)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://t"
            ) as client:
                prefix, form = await _tenant_awaiting_upstream(client)
                assert await reporter.register("http://127.0.0.1:8000") == 0
                await reporter.drain()
                basic = httpx.BasicAuth(f"300:{prefix}/admin", form["password"])
                for n in range(5):
                    assert (await client.put(f"/api/handles/{prefix}/R{n}", json=[URL], auth=basic)).status_code == 201
                await reporter.drain()
                acknowledged = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()["acknowledged"]
                created = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()["entries"]["handle.created"]

                # the database goes back to before the last three changes (as a point-in-time restore would)
                async with fresh_node.unit_of_work() as session:
                    await session.execute(text("DELETE FROM journal WHERE seq > :s"), {"s": acknowledged - 3})
                    await session.execute(
                        text("SELECT setval(pg_get_serial_sequence('journal', 'seq'), :s)"), {"s": acknowledged - 3}
                    )
                    await session.execute(
                        text("UPDATE sync_cursors SET cursor = :s WHERE name = 'upstream'"), {"s": acknowledged - 3}
                    )
                assert await reporter.register("http://127.0.0.1:8000") == acknowledged
                for n in range(2):
                    assert (
                        await client.put(f"/api/handles/{prefix}/AFTER{n}", json=[URL], auth=basic)
                    ).status_code == 201
                await reporter.drain()
                node = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()
                assert node["entries"]["handle.created"] == created + 2  # the new changes were not taken for repeats
                assert node["acknowledged"] == acknowledged + 2 and (await reporter.status()).lag == 0
        await upstream.aclose()


async def test_the_journal_moves_past_a_number_on_sqlite_too(tmp_path):
    from foundation.db import Database
    from foundation.migrate import upgrade
    from registry.journal import repository as journal

    url = f"sqlite+aiosqlite:///{tmp_path}/foundation.db"
    upgrade(url)
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            await journal.append(session, [journal.entry("handle.created", "88.118/a", "88.118/a", "test", 1)])
            assert await journal.advance_past(session, 10) == 1
            assert await journal.advance_past(session, 5) is None  # already beyond
            await journal.append(session, [journal.entry("handle.created", "88.118/b", "88.118/b", "test", 1)])
            assert [e.seq for e in await journal.after(session, 0)] == [1, 10, 11]
    finally:
        await db.dispose()
