"""At least once across a restart: the node is killed while the receiver holds its first message unanswered; the
node started again delivers that message again (same ``webhook-id``) and every later change, in order."""

from __future__ import annotations

import httpx
from standardwebhooks.webhooks import Webhook

from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.factories import onboard
from tests.servers import running_node_process
from tests.sync.test_webhooks import HOOKS, put, subscribe, until
from tests.sync.webhook_receiver import receiving


async def test_every_change_arrives_when_the_node_is_killed_mid_delivery(fresh_node, database_url, tmp_path):
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SECNODE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "SECNODE_WEBHOOK_POLL_SECONDS": "0.1",
        "SECNODE_WEBHOOK_RETRY_BASE_SECONDS": "0.1",
        "SECNODE_WEBHOOK_RETRY_MAX_SECONDS": "0.5",
        "SECNODE_WEBHOOK_TIMEOUT_SECONDS": "5",  # the attempt is still waiting when the node is killed
    }
    with receiving(hold_first=True) as receiver:
        with running_node_process(env, tmp_path) as (url, process):
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                tenant = await onboard(client, "hookrestart")
                subscription = await subscribe(client, tenant, receiver.url)
                for n in range(5):
                    await put(client, tenant, f"K-{n}")
                await until(lambda: len(receiver.requests) >= 1, what="the first message at the receiver")
                held = receiver.requests[0]
                process.kill()  # before the receiver answers: nothing acknowledged, the lease left behind
                process.wait()
        receiver.release.set()  # the held request ends unanswered

        with running_node_process(env, tmp_path) as (url, _):  # a port of its own: the old one may linger
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                for n in range(5, 10):
                    await put(client, tenant, f"K-{n}")
                wanted = {f"{tenant.prefix}/K-{n}" for n in range(10)}
                await until(
                    lambda: {c["handle"] for c in receiver.changes()} >= wanted,
                    timeout=90,
                    what="every change after the restart",
                )
                state = (await client.get(f"{HOOKS}/{subscription['id']}", headers=tenant.headers)).json()["data"]

    verifier = Webhook(subscription["secret"])
    for request in receiver.acknowledged():
        verifier.verify(request.body, request.headers)
    # the message in flight when the node died came again, whole
    again = [r for r in receiver.acknowledged() if r.headers["webhook-id"] == held.headers["webhook-id"]]
    assert again and again[0].body == held.body
    # in order: every change's first arrival follows journal order
    first_seen: list[int] = []
    for change in receiver.changes():
        if change["seq"] not in first_seen:
            first_seen.append(change["seq"])
    assert first_seen == sorted(first_seen) and len(first_seen) == 10
    assert state["state"] == "active" and state["delivery"]["deliveredChanges"] >= 10
