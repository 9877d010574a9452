"""With an upstream configured, `serve` runs the reporter itself: approvals arrive without any command."""

import asyncio
import time

import httpx

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto.keys import ensure_signing_key
from node.app import create_app
from tests.conftest import make_settings
from tests.factories import admin_headers
from tests.servers import running_toplevel
from tests.sync.test_reporter import _tenant_awaiting_upstream


async def test_serve_reports_and_applies_approvals(fresh_node, database_url, tmp_path):
    key_path = str(tmp_path / "node.key")
    ensure_signing_key(key_path)
    with running_toplevel(tmp_path) as top:
        settings = make_settings(database_url, upstream_url=top, node_key_file=key_path)
        app = create_app(settings, db=fresh_node)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://t"
            ) as client:
                prefix, _ = await _tenant_awaiting_upstream(client)
                admin = await admin_headers(client)
                deadline = time.monotonic() + 30
                while (await client.get(f"/snms/api/v5/prefixes/{prefix}", headers=admin)).json()["data"]["state"] != 1:
                    assert time.monotonic() < deadline, "the top-level's approval never arrived"
                    await asyncio.sleep(0.2)
                node = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()
                assert node["entries"]["prefix.approved"] == 1
