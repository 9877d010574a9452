"""The top-level node stops during a burst of 10,000 registrations and comes back: it ends up holding exactly
those registrations, once each, and the journal lag returns to zero; the node's API never waited for it."""

import asyncio
import time

import httpx
from sqlalchemy import func, select

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto.keys import ensure_signing_key, load_signing_key
from node.app import create_app
from registry.journal.models import JournalEntry
from sync.reporter import Reporter
from sync.upstream import HttpUpstream
from tests.conftest import make_settings
from tests.factories import coil, onboard
from tests.servers import free_port, running_toplevel


async def test_outage_during_a_burst_loses_and_doubles_nothing(fresh_node, database_url, tmp_path):
    port = free_port()
    key_path = str(tmp_path / "node.key")
    ensure_signing_key(key_path)
    settings = make_settings(database_url, node_key_file=key_path)  # standalone approvals; reporting still runs
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://t", timeout=120
        ) as client:
            tenant = await onboard(client, "burst")
            with running_toplevel(tmp_path, port) as top:
                upstream = HttpUpstream(top, settings.node_prefix, load_signing_key(key_path))
                await upstream.register("http://127.0.0.1:8000")
                reporter = Reporter(fresh_node, settings, upstream, batch=500)
                shipping = asyncio.create_task(reporter.run_forever(idle_seconds=0.1, max_delay=1.0))
                await asyncio.sleep(0.5)
                for batch in range(2):
                    items = [coil(tenant.prefix, batch * 2000 + i) for i in range(2000)]
                    response = await client.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
                    assert [r["code"] for r in response.json()["data"]] == [1] * 2000
            # the top-level is down for the rest of the burst
            started = time.monotonic()
            for batch in range(2, 5):
                items = [coil(tenant.prefix, batch * 2000 + i) for i in range(2000)]
                response = await client.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
                assert [r["code"] for r in response.json()["data"]] == [1] * 2000
            assert time.monotonic() - started < 60  # registrations do not wait for the top-level
            assert (await reporter.status()).lag > 0
            with running_toplevel(tmp_path, port) as top:
                deadline = time.monotonic() + 120
                while (await reporter.status()).lag > 0:
                    assert time.monotonic() < deadline, "the backlog did not drain"
                    await asyncio.sleep(0.2)
                node = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()
            shipping.cancel()
            await upstream.aclose()
    async with fresh_node.read_session() as session:
        created = (
            await session.execute(
                select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "handle.created")
            )
        ).scalar_one()
    # the coils, plus the node's NA handle, the prefix's NA handle and its administrator identity
    assert created == 10_000 + 3
    assert node["entries"]["handle.created"] == created  # each exactly once: the top-level keys entries by seq
    assert node["acknowledged"] == (await reporter.status()).last_seq
