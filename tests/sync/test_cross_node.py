"""Cross-node resolution: a steel node resolves an automotive node's identifier through prefix homing at the
reference top-level node (all real HTTP servers on loopback)."""

import subprocess
import sys

import httpx

from faces.handle_rest.hot_path import ResolverFastPath
from node.app import create_app
from tests.conftest import make_settings
from tests.factories import basic
from tests.servers import free_port, running_node, running_toplevel


async def test_foreign_identifiers_resolve_through_their_home_node(fresh_node, database_url, tmp_path):
    other_dir = tmp_path / "auto-node"
    other_dir.mkdir()
    port = free_port()
    with running_toplevel(tmp_path) as top:
        env = {
            "SECNODE_NODE_PREFIX": "88.119",
            "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": "Auto-Secret-2026",
            "SECNODE_UPSTREAM_URL": top,
            "SECNODE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        with running_node(env, other_dir, port=port) as other:
            created = httpx.put(
                f"{other}/api/handles/88.119/PART-1",
                headers=basic("300:0.NA/88.119", "Auto-Secret-2026"),
                json=[{"index": 1, "type": "URL", "data": "https://auto.example/part/1"}],
            )
            assert created.status_code == 201, created.text
            registered = subprocess.run(
                [sys.executable, "-m", "node.cli", "sync", "run", "--once"],
                cwd=other_dir,
                env={"PATH": "/usr/bin:/bin", "HOME": str(other_dir), **env},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert registered.returncode == 0, registered.stdout + registered.stderr

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
