"""An enterprise prefix homed at an enterprise node (a second node serving that prefix, a real server on loopback):
both Handle faces of the secondary node refer clients to its site, and the referral leads to the record."""

from __future__ import annotations

import asyncio

import httpx

from faces.handle_rest.hot_path import ResolverFastPath
from node.app import create_app
from tests.factories import admin_headers, basic, onboard
from tests.native_protocol import rfc_client as hdl
from tests.servers import free_port, running_node


async def test_a_homed_prefix_is_referred_to_its_enterprise_node_on_both_faces(fresh_node, settings, tmp_path):
    settings = settings.model_copy(update={"native_enabled": True, "native_port": 0})
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://secondary") as http:
            tenant = await onboard(http, "homedent")
            handle = f"{tenant.prefix}/COIL-9"
            secondary = hdl.HandleClient("127.0.0.1", app.state.native.udp_port)

            enterprise_native = free_port()
            env = {
                "SECNODE_NODE_PREFIX": tenant.prefix,  # the enterprise node serves the enterprise prefix
                "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": "Enterprise-Secret-2026",
                "SECNODE_NATIVE_PORT": str(enterprise_native),
            }
            with running_node(env, tmp_path) as enterprise_node:
                created = httpx.put(
                    f"{enterprise_node}/api/handles/{handle}",
                    headers=basic(f"300:0.NA/{tenant.prefix}", "Enterprise-Secret-2026"),
                    json=[{"index": 1, "type": "URL", "data": "https://hz.example/coil/9"}],
                )
                assert created.status_code == 201, created.text
                assert (await secondary.resolve(handle)).response_code == hdl.RC_HANDLE_NOT_FOUND  # not homed yet
                local = f"{tenant.prefix}/KEPT-HERE"  # a record the secondary holds: its answers are kept ready
                kept = await http.put(
                    f"/api/handles/{local}",
                    json=[{"index": 1, "type": "URL", "data": "x"}],
                    headers=tenant.handle_admin,
                )
                assert kept.status_code == 201, kept.text
                for _ in range(2):
                    assert (await secondary.resolve(local)).ok and (await http.get(f"/api/handles/{local}")).is_success

                admin = await admin_headers(http)
                site = {"address": "127.0.0.1", "port": enterprise_native}
                homed = await http.put(f"/snms/api/v5/prefixes/{tenant.prefix}/home", json=site, headers=admin)
                assert homed.json()["status"] == 1, homed.text
                for _ in range(60):  # every worker reads the homed prefixes within seconds; this one at once
                    if (await secondary.resolve(local)).response_code == hdl.RC_SERVICE_REFERRAL:
                        break
                    await asyncio.sleep(0.1)
                assert (await secondary.resolve(local)).response_code == hdl.RC_SERVICE_REFERRAL  # no ready answer
                assert (await http.get(f"/api/handles/{local}")).status_code == 300

                referral = await secondary.resolve(handle)
                assert referral.response_code == hdl.RC_SERVICE_REFERRAL, referral.message
                [value] = referral.values
                server = hdl.decode_site(value.data)["servers"][0]
                tcp = next(i for i in server["interfaces"] if i["protocol"] == "tcp")
                followed = await hdl.HandleClient(server["address"], tcp["port"], transport="tcp").resolve(handle)
                assert followed.ok and followed.value(1).text() == "https://hz.example/coil/9"

                rest = await http.get(f"/api/handles/{handle}")
                assert rest.status_code == 300
                body = rest.json()
                assert body["responseCode"] == 302 and body["values"][0]["type"] == "HS_SITE"
                assert body["values"][0]["data"]["value"]["servers"][0]["address"] == "127.0.0.1"
                na = await secondary.resolve(f"0.NA/{tenant.prefix}")
                assert na.ok  # the prefix's NA handle stays answered by the secondary node

                unhomed = await http.delete(f"/snms/api/v5/prefixes/{tenant.prefix}/home", headers=admin)
                assert unhomed.json()["status"] == 1, unhomed.text
                assert (await secondary.resolve(handle)).response_code == hdl.RC_HANDLE_NOT_FOUND
