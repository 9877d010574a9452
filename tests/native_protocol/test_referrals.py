"""Referrals on the native face: another secondary node's identifier, known through the reference top-level node's
homing, is answered with a service referral to that node's site (all real servers on loopback)."""

from __future__ import annotations

from node.app import create_app
from tests.conftest import make_settings
from tests.native_protocol import rfc_client as hdl
from tests.servers import free_port, running_homed_node, running_toplevel


async def test_another_nodes_identifier_is_referred_to_its_site(fresh_node, database_url, tmp_path):
    native_port = free_port()
    with running_toplevel(tmp_path) as top:
        with running_homed_node(top, tmp_path / "auto-node", {"SECNODE_NATIVE_PORT": str(native_port)}) as other:
            settings = make_settings(
                database_url, upstream_url=top, sync_in_serve=False, native_enabled=True, native_port=0
            )
            app = create_app(settings, db=fresh_node)
            async with app.router.lifespan_context(app):
                steel = hdl.HandleClient("127.0.0.1", app.state.native.udp_port, timeout=5.0)
                referral = await steel.resolve("88.119/PART-1")
                assert referral.response_code == hdl.RC_SERVICE_REFERRAL, referral.message
                [site_value] = referral.values
                assert site_value.type == "HS_SITE"
                site = hdl.decode_site(site_value.data)
                [server] = site["servers"]
                udp = next(i for i in server["interfaces"] if i["protocol"] == "udp")
                assert (server["address"], udp["port"]) == ("127.0.0.1", native_port)

                followed = await hdl.HandleClient(server["address"], udp["port"]).resolve("88.119/PART-1")
                assert followed.ok and followed.value(1).text() == "https://auto.example/part/1"

                not_referred = await steel.resolve("88.119/PART-1", DNRF=True)
                assert not_referred.response_code == hdl.RC_SERVER_NOT_RESP
                assert other in (not_referred.message or "")
                unknown = await steel.resolve("77.1/nothing")
                assert unknown.response_code == hdl.RC_SERVER_NOT_RESP
