"""The reference top-level node in manual approval mode: applications wait for the operator's decision."""

import httpx

from foundation.crypto.keys import ensure_signing_key, load_signing_key
from sync.toplevel.app import create_toplevel_app
from sync.upstream import HttpUpstream


async def test_manual_decisions_reach_the_node(tmp_path):
    app = create_toplevel_app(f"sqlite+aiosqlite:///{tmp_path}/top.db", auto_approve=False)
    ensure_signing_key(str(tmp_path / "k"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        upstream = HttpUpstream("http://top", "88.118", load_signing_key(str(tmp_path / "k")), transport=transport)
        await upstream.register("http://127.0.0.1:8000")
        application = {
            "seq": 1,
            "kind": "prefix.approved",
            "subject": "88.118.1042",
            "subjectKey": "88.118.1042",
            "payload": {"awaiting": "upstream"},
        }
        ack = await upstream.send_journal(0, [application])
        assert ack.accepted == 1 and ack.decisions == []
        async with httpx.AsyncClient(transport=transport, base_url="http://top") as operator:
            waiting = (await operator.get("/v1/applications")).json()["applications"]
            assert waiting == [{"prefix": "88.118.1042", "nodePrefix": "88.118"}]
            decided = await operator.post(
                "/v1/applications/88.118.1042", json={"decision": "rejected", "reason": "duplicate"}
            )
            assert decided.status_code == 200
            assert (await operator.post("/v1/applications/88.118.9", json={"decision": "approved"})).status_code == 404
        decisions = await upstream.send_heartbeat({"version": "t", "health": "ok", "journalLag": 0})
        assert decisions == [{"prefix": "88.118.1042", "decision": "rejected", "reason": "duplicate"}]
        await upstream.aclose()
