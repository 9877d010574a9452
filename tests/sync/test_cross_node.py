"""Cross-node resolution: a steel node resolves an automotive node's identifier through prefix homing at the
reference top-level node (all real HTTP servers on loopback)."""

import httpx

from faces.handle_rest.hot_path import ResolverFastPath
from node.app import create_app
from tests.conftest import make_settings
from tests.servers import running_homed_node, running_toplevel


async def test_foreign_identifiers_resolve_through_their_home_node(fresh_node, database_url, tmp_path):
    with running_toplevel(tmp_path) as top:
        with running_homed_node(top, tmp_path / "auto-node") as other:
            app = create_app(make_settings(database_url, upstream_url=top, sync_in_serve=False), db=fresh_node)
            async with app.router.lifespan_context(app):
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://steel-node"
                ) as steel:
                    resolved = await steel.get("/api/handles/88.119/part-1?type=URL")
                    assert resolved.status_code == 200, resolved.text
                    assert resolved.json()["handle"] == "88.119/part-1"
                    assert resolved.json()["values"][0]["data"]["value"] == "https://auto.example/part/1"
                    referral = await steel.get("/api/handles/88.119/PART-1?recurse=false")
                    assert referral.status_code == 307
                    assert referral.headers["location"] == f"{other}/api/handles/88.119/PART-1"
                    unknown = await steel.get("/api/handles/77.1/nothing")
                    assert unknown.status_code == 400 and unknown.json()["responseCode"] == 301
                    missing = await steel.get("/api/handles/88.119/PART-2")
                    assert missing.status_code == 404 and missing.json()["responseCode"] == 100
