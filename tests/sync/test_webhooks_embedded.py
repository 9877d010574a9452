"""Webhooks on the embedded default (SQLite, no Redis): delivered with the secret sealed under the node's key, and
managed with ``secnode webhook`` (each command audited)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto.keys import ensure_signing_key
from foundation.db import Database
from node.app import create_app
from registry.audit.models import AuditEntry
from registry.bootstrap import ensure_node
from registry.webhooks.models import WebhookSubscription
from tests.conftest import ADMIN_PASSWORD, make_settings, migrated_database
from tests.factories import onboard
from tests.sync.test_webhooks import FAST, HOOKS, put, subscribe, until
from tests.sync.webhook_receiver import receiving


def _secnode(url: str, key: str, *words: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "SECNODE_DATABASE_URL": url,
        "SECNODE_NODE_KEY_FILE": key,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "COLUMNS": "250",
    }
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "webhook", *words], env=env, capture_output=True, text=True, timeout=120
    )


async def test_embedded_node_delivers_sealed_and_the_cli_manages(tmp_path):
    key = str(tmp_path / "node.key")
    ensure_signing_key(key)
    async with migrated_database("sqlite", tmp_path) as url:
        settings = make_settings(url, redis_url=None, node_key_file=key, **FAST)
        db = Database(url)
        try:
            async with db.unit_of_work() as session:
                await ensure_node(session, settings)
            with receiving() as receiver:
                app = create_app(settings, db=db)
                async with app.router.lifespan_context(app):
                    transport = httpx.ASGITransport(app=ResolverFastPath(app))
                    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
                        tenant = await onboard(client, "hooklite")
                        subscription = await subscribe(client, tenant, receiver.url)
                        await put(client, tenant, "L-1")
                        await until(lambda: len(receiver.changes()) >= 1, what="the change on SQLite")
                        request = receiver.acknowledged()[0]
                        Webhook(subscription["secret"]).verify(request.body, request.headers)
                        path = f"{HOOKS}/{subscription['id']}"
                        for _ in range(100):  # the acknowledgement is recorded after the answer came
                            state = (await client.get(path, headers=tenant.headers)).json()["data"]
                            if state["delivery"]["deliveredChanges"] == 1:
                                break
                            await asyncio.sleep(0.05)
                        assert state["delivery"]["deliveredChanges"] == 1, state
            async with db.read_session() as session:
                stored = (await session.execute(select(WebhookSubscription.secret))).scalar_one()
            assert stored.startswith("v1:") and subscription["secret"] not in stored  # sealed, not in clear

            number = str(subscription["id"])
            listed = _secnode(url, key, "list")
            assert listed.returncode == 0, listed.stdout + listed.stderr
            assert receiver.url in listed.stdout and "active" in listed.stdout
            paused = _secnode(url, key, "pause", number)
            assert paused.returncode == 0 and "paused" in paused.stdout, paused.stdout + paused.stderr
            attempts = _secnode(url, key, "attempts", number)
            assert "204" in attempts.stdout, attempts.stdout
            again = _secnode(url, key, "redeliver", number, "--from-seq", str(receiver.changes()[0]["seq"]))
            assert again.returncode == 0, again.stdout + again.stderr
            refused = _secnode(url, key, "redeliver", number, "--from-seq", "1")
            assert refused.returncode == 1 and "webhook.redelivery_refused" in refused.stdout
            missing = _secnode(url, key, "enable", "999")
            assert missing.returncode == 1 and "webhook.not_found" in missing.stdout
            async with db.read_session() as session:
                actions = list((await session.execute(select(AuditEntry.action))).scalars())
            assert f"CLI webhook pause {number}" in actions and "CLI webhook enable 999" in actions
            async with db.read_session() as session:
                state = (await session.execute(select(WebhookSubscription.state))).scalar_one()
            assert state == "active"  # redelivery resumes it
        finally:
            await db.dispose()
