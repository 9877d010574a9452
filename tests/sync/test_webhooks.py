"""Change notifications by webhook (ADR 0013), on the application with real PostgreSQL and Redis and a real HTTP
receiver on a loopback port. Signatures are checked with the reference ``standardwebhooks`` package."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.config import Settings
from node.app import create_app
from registry.audit.models import AuditEntry
from sync.delivery.worker import DeliveryWorker
from tests.conftest import make_settings
from tests.factories import Tenant, admin_headers, login, onboard
from tests.sync.webhook_receiver import receiving

FAST = {
    "webhook_allow_private_addresses": True,  # the receiver is on loopback
    "webhook_poll_seconds": 0.05,
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_max_seconds": 0.2,
    "webhook_timeout_seconds": 5,
}
URL = {"index": 1, "type": "URL", "data": {"format": "string", "value": "https://example.com/a"}}
HOOKS = "/snms/api/v5/webhooks"


@contextlib.asynccontextmanager
async def node(fresh_node, database_url: str, **overrides) -> AsyncIterator[httpx.AsyncClient]:
    settings: Settings = make_settings(database_url, **{**FAST, **overrides})
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client:
            yield client


async def subscribe(client: httpx.AsyncClient, tenant: Tenant, url: str, **extra) -> dict:
    body = {"url": url, "prefixes": [tenant.prefix], **extra}
    response = await client.post(HOOKS, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["secret"].startswith("whsec_")
    return data


async def put(client: httpx.AsyncClient, tenant: Tenant, suffix: str, value: str = "https://example.com/a") -> None:
    response = await client.put(
        f"/api/handles/{tenant.prefix}/{suffix}", json=[URL | {"data": value}], headers=tenant.handle_admin
    )
    assert response.status_code in (200, 201), response.text


async def until(predicate, timeout: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_changes_arrive_signed_in_order_and_only_the_subscribed_prefixes(fresh_node, database_url):
    with receiving() as receiver:
        async with node(fresh_node, database_url) as client:
            mine, other = await onboard(client, "hookmine"), await onboard(client, "hookother")
            subscription = await subscribe(client, mine, receiver.url)
            await put(client, other, "OTHER-1")
            for n in range(5):
                await put(client, mine, f"ITEM-{n}")
            await put(client, mine, "ITEM-0", "https://example.com/changed")
            assert (await client.delete(f"/api/handles/{mine.prefix}/ITEM-1", headers=mine.handle_admin)).is_success
            await put(client, other, "OTHER-2")
            await until(lambda: len(receiver.changes()) >= 7, what="seven changes")
            await asyncio.sleep(0.3)  # nothing more may come

            verifier = Webhook(subscription["secret"])
            for request in receiver.acknowledged():
                assert verifier.verify(request.body, request.headers)["type"] == "handle.changes"
                assert request.headers["webhook-id"].startswith(f"msg_{subscription['id']}_")
                assert request.headers["content-type"] == "application/json"
                with pytest.raises(WebhookVerificationError):  # another secret does not verify it
                    Webhook("whsec_" + "A" * 44).verify(request.body, request.headers)
            changes = receiver.changes()
            assert [(c["type"], c["handle"]) for c in changes] == [
                *[("handle.created", f"{mine.prefix}/ITEM-{n}") for n in range(5)],
                ("handle.updated", f"{mine.prefix}/ITEM-0"),
                ("handle.deleted", f"{mine.prefix}/ITEM-1"),
            ]
            seqs = [c["seq"] for c in changes]
            assert seqs == sorted(seqs) and len(set(seqs)) == 7
            assert changes[5]["version"] == 2 and changes[0]["prefix"] == mine.prefix
            assert changes[0]["url"].endswith(f"/api/handles/{mine.prefix}/ITEM-0")
            assert not any("values" in c for c in changes)  # thin: the receiver reads with its own credentials

            state = (await client.get(f"{HOOKS}/{subscription['id']}", headers=mine.headers)).json()["data"]
            assert state["state"] == "active" and state["delivery"]["deliveredChanges"] == 7
            assert state["delivery"]["lag"] == 0 and "secret" not in state


async def test_failures_are_retried_with_the_same_message_until_acknowledged(fresh_node, database_url):
    with receiving(fail_first=3) as receiver:
        async with node(fresh_node, database_url) as client:
            tenant = await onboard(client, "hookretry")
            subscription = await subscribe(client, tenant, receiver.url)
            for n in range(3):
                await put(client, tenant, f"R-{n}")
            await until(lambda: len(receiver.changes()) >= 3, what="the changes after three failures")
            first = receiver.requests[0]
            assert [r.answered for r in receiver.requests[:4]] == [500, 500, 500, 204]
            # a retry is the same message: same id, same bytes (only the timestamp and signature are new)
            assert {r.headers["webhook-id"] for r in receiver.requests[:4]} == {first.headers["webhook-id"]}
            assert {r.body for r in receiver.requests[:4]} == {first.body}
            verifier = Webhook(subscription["secret"])
            for request in receiver.requests:
                verifier.verify(request.body, request.headers)
            assert sorted(c["handle"] for c in receiver.changes()) == [f"{tenant.prefix}/R-{n}" for n in range(3)]
            attempts = (await client.get(f"{HOOKS}/{subscription['id']}/attempts", headers=tenant.headers)).json()
            outcomes = [(a["ok"], a["statusCode"]) for a in reversed(attempts["data"])]
            assert outcomes[:4] == [(False, 500)] * 3 + [(True, 204)]
            assert attempts["data"][-1]["error"] == "HTTP 500"


async def test_a_long_failure_streak_disables_and_re_enabling_delivers(fresh_node, database_url):
    with receiving(failing=True) as receiver:
        async with node(fresh_node, database_url, webhook_disable_after_failures=3) as client:
            tenant = await onboard(client, "hookdown")
            subscription = await subscribe(client, tenant, receiver.url)
            path = f"{HOOKS}/{subscription['id']}"
            await put(client, tenant, "D-1")

            async def state() -> dict:
                return (await client.get(path, headers=tenant.headers)).json()["data"]

            deadline = time.monotonic() + 30
            while (current := await state())["state"] != "disabled":
                assert time.monotonic() < deadline, current
                await asyncio.sleep(0.05)
            assert current["delivery"]["consecutiveFailures"] == 3
            assert current["delivery"]["lastError"] == "HTTP 500" and current["delivery"]["disabledAt"]
            await asyncio.sleep(0.3)
            assert len(receiver.requests) == 3  # disabled: no more attempts
            await put(client, tenant, "D-2")  # kept in the journal meanwhile

            receiver.failing = False
            response = await client.put(path, json={"enabled": True}, headers=tenant.headers)
            assert response.status_code == 200, response.text
            assert response.json()["data"]["state"] == "active", response.text
            await until(lambda: len(receiver.changes()) >= 2, what="both changes after re-enabling")
            assert [c["handle"] for c in receiver.changes()] == [f"{tenant.prefix}/D-1", f"{tenant.prefix}/D-2"]
            assert (await state())["delivery"]["consecutiveFailures"] == 0


async def test_redeliver_and_ping(fresh_node, database_url):
    with receiving() as receiver:
        async with node(fresh_node, database_url) as client:
            tenant = await onboard(client, "hookredo")
            subscription = await subscribe(client, tenant, receiver.url, events=["handle.created"])
            path = f"{HOOKS}/{subscription['id']}"
            await put(client, tenant, "P-1")
            await put(client, tenant, "P-1", "https://example.com/b")  # an update: not subscribed
            await put(client, tenant, "P-2")
            await until(lambda: len(receiver.changes()) >= 2, what="two creations")
            first_seq = receiver.changes()[0]["seq"]
            response = await client.post(f"{path}/redeliver", json={"fromSeq": first_seq}, headers=tenant.headers)
            assert response.json()["status"] == 1, response.text
            await until(lambda: len(receiver.changes()) >= 4, what="the creations again")
            assert [c["type"] for c in receiver.changes()] == ["handle.created"] * 4
            assert [c["seq"] for c in receiver.changes()[2:]] == [c["seq"] for c in receiver.changes()[:2]]

            before = len(receiver.requests)
            response = await client.post(f"{path}/ping", headers=tenant.headers)
            assert response.json()["data"]["ok"] is True and response.json()["data"]["statusCode"] == 204
            ping = receiver.requests[before]
            assert Webhook(subscription["secret"]).verify(ping.body, ping.headers)["type"] == "webhook.ping"

            rotated = (await client.post(f"{path}/secret", headers=tenant.headers)).json()["data"]["secret"]
            assert rotated != subscription["secret"]
            await client.post(f"{path}/ping", headers=tenant.headers)
            Webhook(rotated).verify(receiver.requests[-1].body, receiver.requests[-1].headers)
            with pytest.raises(WebhookVerificationError):
                Webhook(subscription["secret"]).verify(receiver.requests[-1].body, receiver.requests[-1].headers)


async def test_roles_and_other_enterprises(fresh_node, database_url):
    with receiving() as receiver:
        async with node(fresh_node, database_url) as client:
            owner, stranger = await onboard(client, "hookowner"), await onboard(client, "hookstranger")
            subscription = await subscribe(client, owner, receiver.url)
            path = f"{HOOKS}/{subscription['id']}"
            for user, role in (("hookauditor", "auditor"), ("hookregistrar", "registrar")):
                response = await client.post(
                    "/identity/users",
                    json={"username": user, "password": "Auditor-Pass-2026", "role": role},
                    headers=owner.headers,
                )
                assert response.status_code == 201, response.text
            auditor = await login(client, "hookauditor", "Auditor-Pass-2026")
            registrar = await login(client, "hookregistrar", "Auditor-Pass-2026")

            assert (await client.get(path, headers=auditor)).json()["data"]["id"] == subscription["id"]
            assert len((await client.get(HOOKS, headers=auditor)).json()["data"]) == 1
            refused = await client.put(path, json={"enabled": False}, headers=auditor)
            assert refused.status_code == 403 and refused.json()["status"] == -3
            refused = await client.get(path, headers=registrar)
            assert refused.status_code == 403 and refused.json()["error"] == "webhook.forbidden"

            hidden = await client.get(path, headers=stranger.headers)
            assert hidden.status_code == 404 and hidden.json()["error"] == "webhook.not_found"
            assert (await client.delete(path, headers=stranger.headers)).status_code == 404
            assert (await client.get(HOOKS, headers=stranger.headers)).json()["data"] == []
            foreign = await client.post(
                HOOKS, json={"url": receiver.url, "prefixes": [owner.prefix]}, headers=stranger.headers
            )
            assert foreign.status_code == 400 and foreign.json()["error"] == "webhook.prefix_refused"

            admin = await admin_headers(client)
            listed = await client.get(f"{HOOKS}?enterpriseId={owner.enterprise_id}", headers=admin)
            assert [s["id"] for s in listed.json()["data"]] == [subscription["id"]]
            missing = await client.get(HOOKS, headers=admin)
            assert missing.status_code == 400 and missing.json()["status"] == -2

            assert (await client.delete(path, headers=owner.headers)).json()["data"]["deleted"] is True
            assert (await client.get(path, headers=owner.headers)).status_code == 404
    async with fresh_node.read_session() as session:
        audited = set((await session.execute(select(AuditEntry.action, AuditEntry.actor))).all())
    assert (f"POST {HOOKS}", "user:hookowner") in audited  # administrative writes are audited, refusals too
    assert (f"PUT {path}", "user:hookauditor") in audited and (f"DELETE {path}", "user:hookowner") in audited


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"url": "ftp://example.com/hook", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "file:///etc/passwd", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://user:pw@example.com/", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://127.0.0.1:9/hook", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://localhost/hook", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://10.1.2.3/hook", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://169.254.169.254/latest/meta-data", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://[::1]/hook", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://[::ffff:192.168.0.1]/hook", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://no-such-host.invalid/hook", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://93.184.215.14/hook", "prefixes": ["88.118.999999"]}, "webhook.prefix_refused"),
        ({"url": "http://93.184.215.14/hook", "prefixes": []}, "request.invalid_fields"),
        ({"url": "http://93.184.215.14/hook", "prefixes": ["88.118.\x00"]}, "webhook.prefix_refused"),
        ({"url": "http://93.184.215.14/hook", "prefixes": ["88..118"]}, "webhook.prefix_refused"),
        ({"url": "http://93.184.215.14/hook", "prefixes": ["8" * 200]}, "request.invalid_fields"),
        ({"url": "http://93.184.215.14/\x00", "prefixes": ["{prefix}"]}, "webhook.url_refused"),
        ({"url": "http://93.184.215.14/", "prefixes": ["{prefix}"], "description": "a\x00b"}, "request.invalid_fields"),
        ({"url": "http://93.184.215.14/hook", "prefixes": ["{prefix}"], "events": ["x"]}, "webhook.kind_unknown"),
        ({"url": "http://93.184.215.14/hook", "prefixes": ["{prefix}"], "extra": 1}, "request.invalid_fields"),
        ({"url": 7, "prefixes": ["{prefix}"]}, "request.invalid_fields"),
        ([1, 2], "request.invalid_fields"),
    ],
)
async def test_bad_subscriptions_are_refused_in_the_business_envelope(fresh_node, database_url, body, error):
    async with node(fresh_node, database_url, webhook_allow_private_addresses=False) as client:
        tenant = await onboard(client, "hookbad")
        if isinstance(body, dict):
            body = {k: [p.format(prefix=tenant.prefix) for p in v] if k == "prefixes" else v for k, v in body.items()}
        response = await client.post(HOOKS, json=body, headers=tenant.headers)
        assert response.status_code == 400, response.text
        assert response.json()["status"] == -2 and response.json()["error"] == error, response.text
        assert (await client.get(HOOKS, headers=tenant.headers)).json()["data"] == []  # nothing written


async def test_bad_requests_on_a_subscription(fresh_node, database_url):
    with receiving() as receiver:
        async with node(fresh_node, database_url) as client:
            tenant = await onboard(client, "hookbadreq")
            subscription = await subscribe(client, tenant, receiver.url)
            path = f"{HOOKS}/{subscription['id']}"
            for url, body, status, error in [
                (f"{path}/redeliver", {"fromSeq": 0}, 400, "request.invalid_fields"),
                (f"{path}/redeliver", {"fromSeq": 10**12}, 400, "webhook.redelivery_refused"),
                (f"{HOOKS}/99999999999999999999/ping", None, 400, "request.invalid_fields"),
                (f"{HOOKS}/424242/ping", None, 404, "webhook.not_found"),
            ]:
                response = await client.post(url, json=body, headers=tenant.headers)
                assert response.status_code == status, (url, response.text)
                assert response.json()["error"] == error, (url, response.text)
            response = await client.put(path, content=b"{not json", headers=tenant.headers)
            assert response.status_code == 400 and response.json()["status"] == -2
            response = await client.put(path, json={"url": "gopher://example.com"}, headers=tenant.headers)
            assert response.json()["error"] == "webhook.url_refused"
            assert (await client.get(path, headers=tenant.headers)).json()["data"]["url"] == receiver.url
            assert (await client.get(HOOKS)).json()["status"] == -1  # no token


async def test_two_workers_never_send_one_subscription_at_once(fresh_node, database_url):
    """Every worker of every replica runs the loop; the claim (FOR UPDATE SKIP LOCKED, then a lease) gives each
    subscription to one worker at a time: with a receiver that acknowledges everything, no message comes twice and
    each subscription's changes come in order."""
    with receiving() as receiver:
        async with node(fresh_node, database_url, webhooks_in_serve=False) as client:
            tenants = [await onboard(client, f"hookpair{n}") for n in range(3)]
            subscriptions = [await subscribe(client, t, receiver.url) for t in tenants]
            settings = make_settings(database_url, **FAST, webhook_batch_changes=2)
            workers = [DeliveryWorker(fresh_node, settings) for _ in range(2)]
            loops = [asyncio.create_task(w.run_forever()) for w in workers]
            try:
                for n in range(8):
                    for tenant in tenants:
                        await put(client, tenant, f"W-{n}")
                await until(lambda: len(receiver.changes()) >= 24, what="24 changes from two workers")
                await asyncio.sleep(0.3)
            finally:
                for loop in loops:
                    loop.cancel()
                await asyncio.gather(*loops, return_exceptions=True)
                for worker in workers:
                    await worker.aclose()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) and len(receiver.changes()) == 24
    for subscription in subscriptions:
        seqs = [
            seq for r in receiver.requests if r.json["data"]["subscriptionId"] == subscription["id"] for seq in r.seqs
        ]
        assert len(seqs) == 8 and seqs == sorted(seqs)


async def test_metrics_show_lag_and_deliveries(fresh_node, database_url):
    with receiving() as receiver:
        async with node(fresh_node, database_url) as client:
            tenant = await onboard(client, "hookmetrics")
            subscription = await subscribe(client, tenant, receiver.url)
            await put(client, tenant, "M-1")
            await until(lambda: len(receiver.changes()) >= 1, what="one change")
            await asyncio.sleep(10.5)  # the loop refreshes its gauges every 10 s
            text = (await client.get("/metrics")).text
    assert f'secnode_webhook_lag{{subscription="{subscription["id"]}"}} 0.0' in text
    assert f'secnode_webhook_consecutive_failures{{subscription="{subscription["id"]}"}} 0.0' in text
    assert 'secnode_webhook_attempts_total{outcome="delivered"}' in text
    assert "secnode_webhook_changes_delivered_total" in text


async def test_a_slow_receiver_holds_up_only_its_own_subscription(fresh_node, database_url):
    with receiving(hold_first=True) as slow, receiving() as quick:
        async with node(fresh_node, database_url, webhook_batch_changes=1, webhook_timeout_seconds=20) as client:
            first, second = await onboard(client, "hookslow"), await onboard(client, "hookquick")
            await subscribe(client, first, slow.url)
            await subscribe(client, second, quick.url)
            await put(client, first, "S-1")
            await until(lambda: len(slow.requests) == 1, what="the slow receiver holding its first message")
            for n in range(3):
                await put(client, second, f"Q-{n}")
            # three messages, one after another, while the other subscription's attempt is still open
            await until(lambda: len(quick.changes()) == 3, timeout=10, what="the quick receiver's messages")
            assert len(quick.acknowledged()) == 3 and slow.requests[0].answered is None
            slow.release.set()
