"""Webhook subscriptions of an enterprise: the rules for making, changing and reading them (ADR 0013).

An enterprise's administrators manage its subscriptions and its auditors read them (the node administrator does
both for any enterprise). A subscription names prefixes the enterprise holds; what is delivered is checked against
the prefixes it holds when each message is made, so a prefix that leaves the enterprise stops being delivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation import outbound
from foundation.config import Settings
from foundation.errors import InvalidHandle, MissingParameter
from registry.journal import repository as journal
from registry.kernel.actor import AUDITOR, ENTERPRISE_ADMIN, Actor
from registry.kernel.clock import as_utc, utcnow
from registry.kernel.syntax import canonical, check_prefix
from registry.webhooks import repository, secrets
from registry.webhooks.errors import (
    WebhookForbidden,
    WebhookKindUnknown,
    WebhookLimitReached,
    WebhookNotFound,
    WebhookPrefixRefused,
    WebhookRedeliveryRefused,
    WebhookUrlRefused,
)
from registry.webhooks.models import SubscriptionState, WebhookSubscription

CHANGES = "changes"  # the source: the change journal
CHANGE_KINDS = ("handle.created", "handle.updated", "handle.deleted")
MAX_PREFIXES = 100


def _managed_enterprise(actor: Actor, requested: int | None) -> int:
    actor.require_admin("managing webhook subscriptions")
    return _enterprise(actor, requested)


def _read_enterprise(actor: Actor, requested: int | None) -> int:
    _require_reader(actor)
    return _enterprise(actor, requested)


def _require_reader(actor: Actor) -> None:
    if not actor.is_node_admin and actor.role not in (ENTERPRISE_ADMIN, AUDITOR):
        raise WebhookForbidden(
            f"webhook subscriptions are read by the enterprise's administrators and auditors; "
            f"{actor.name} is a {actor.role}"
        )


def _enterprise(actor: Actor, requested: int | None) -> int:
    if actor.is_node_admin:
        if requested is None:
            raise MissingParameter("enterpriseId is required for the node administrator")
        return requested
    if actor.enterprise_id is None:
        raise WebhookForbidden(f"{actor.name} acts for no enterprise")
    return actor.enterprise_id


async def check_url(settings: Settings, url: str) -> str:
    """``url`` if the node may deliver to it (``WebhookUrlRefused`` otherwise). Resolves the host: call it before
    the unit of work's first statement, so no transaction waits on the name server."""
    reason = outbound.shape_refusal(url) or await outbound.address_refusal(
        url, allow_private=settings.webhook_allow_private_addresses
    )
    if reason is not None:
        raise WebhookUrlRefused(url, reason)
    return url


async def _prefix_keys(session: AsyncSession, enterprise_id: int, prefixes: list[str]) -> list[str]:
    if not prefixes:
        raise WebhookPrefixRefused("name at least one prefix of the enterprise")
    if len(prefixes) > MAX_PREFIXES:
        raise WebhookPrefixRefused(f"at most {MAX_PREFIXES} prefixes per subscription")
    for prefix in prefixes:
        try:
            check_prefix(prefix)
        except InvalidHandle as exc:
            raise WebhookPrefixRefused(f"{prefix!r} is not a prefix: {exc.message}") from None
    keys = sorted({canonical(p) for p in prefixes})
    held = await repository.owned_prefix_keys(session, enterprise_id, keys)
    foreign = [k for k in keys if k not in held]
    if foreign:
        raise WebhookPrefixRefused(f"prefixes not held by enterprise {enterprise_id}: {', '.join(foreign)}")
    return keys


def _kinds(kinds: list[str] | None) -> list[str]:
    if kinds is None or not kinds:
        return list(CHANGE_KINDS)
    for kind in kinds:
        if kind not in CHANGE_KINDS:
            raise WebhookKindUnknown(kind, CHANGE_KINDS)
    return sorted(set(kinds), key=CHANGE_KINDS.index)


async def create(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    enterprise_id: int | None,
    url: str,
    prefixes: list[str],
    kinds: list[str] | None,
    description: str | None,
) -> tuple[WebhookSubscription, str]:
    """A subscription delivering the changes committed from now on; returns it and its secret (shown once)."""
    enterprise = _managed_enterprise(actor, enterprise_id)
    await check_url(settings, url)
    keys = await _prefix_keys(session, enterprise, prefixes)
    kinds = _kinds(kinds)
    if await repository.count_of_enterprise(session, enterprise) >= settings.webhook_max_per_enterprise:
        raise WebhookLimitReached(settings.webhook_max_per_enterprise)
    secret = secrets.new_secret()
    now = utcnow()
    position = await journal.last_seq(session)
    subscription = WebhookSubscription(
        enterprise_id=enterprise,
        source=CHANGES,
        filter={"prefixes": keys, "kinds": kinds},
        url=url,
        secret=secrets.seal(secret, settings.node_key_file),
        description=description,
        state=SubscriptionState.ACTIVE.value,
        cursor=position,
        start=position,
        pending_count=0,
        failures=0,
        next_attempt_at=now,
        delivered_messages=0,
        delivered_items=0,
        created_at=now,
        created_by=actor.name,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def _subscription(
    session: AsyncSession, actor: Actor, subscription_id: int, *, for_update: bool = False
) -> WebhookSubscription:
    found = await repository.get(session, subscription_id, for_update=for_update)
    if found is None or (not actor.is_node_admin and found.enterprise_id != actor.enterprise_id):
        raise WebhookNotFound(subscription_id)  # another enterprise's subscription is not shown to exist
    return found


async def read(session: AsyncSession, actor: Actor, subscription_id: int) -> WebhookSubscription:
    _require_reader(actor)
    return await _subscription(session, actor, subscription_id)


async def list_of(session: AsyncSession, actor: Actor, enterprise_id: int | None) -> list[WebhookSubscription]:
    return await repository.of_enterprise(session, _read_enterprise(actor, enterprise_id))


async def managed(session: AsyncSession, actor: Actor, subscription_id: int) -> WebhookSubscription:
    """The subscription, locked, for an administrator's change."""
    actor.require_admin("managing webhook subscriptions")
    return await _subscription(session, actor, subscription_id, for_update=True)


async def managed_read(session: AsyncSession, actor: Actor, subscription_id: int) -> WebhookSubscription:
    """The subscription, unlocked, for an administrator's action that changes nothing stored (a ping)."""
    actor.require_admin("managing webhook subscriptions")
    return await _subscription(session, actor, subscription_id)


async def update(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    subscription_id: int,
    *,
    url: str | None = None,
    prefixes: list[str] | None = None,
    kinds: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookSubscription:
    """Change what is delivered where; ``enabled`` pauses (False) or resumes (True) it. Resuming a subscription the
    node disabled clears its failure streak and retries the message it stopped at at once."""
    actor.require_admin("managing webhook subscriptions")
    if url is not None:
        await check_url(settings, url)
    subscription = await _subscription(session, actor, subscription_id, for_update=True)
    if url is not None:
        subscription.url = url
    if prefixes is not None or kinds is not None:
        filter_ = dict(subscription.filter)
        if prefixes is not None:
            filter_["prefixes"] = await _prefix_keys(session, subscription.enterprise_id, prefixes)
        if kinds is not None:
            filter_["kinds"] = _kinds(kinds)
        subscription.filter = filter_
    if description is not None:
        subscription.description = description
    now = utcnow()
    if enabled is True and subscription.state != SubscriptionState.ACTIVE.value:
        _resume(subscription, now)
    elif enabled is False:
        subscription.state = SubscriptionState.PAUSED.value
    subscription.updated_at = now
    await session.flush()
    return subscription


def _resume(subscription: WebhookSubscription, now: datetime) -> None:
    subscription.state = SubscriptionState.ACTIVE.value
    subscription.failures = 0
    subscription.disabled_at = None
    subscription.next_attempt_at = now
    subscription.lease_owner = subscription.lease_until = None


async def delete(session: AsyncSession, actor: Actor, subscription_id: int) -> WebhookSubscription:
    subscription = await managed(session, actor, subscription_id)
    await session.delete(subscription)
    await session.flush()
    return subscription


async def rotate_secret(
    session: AsyncSession, settings: Settings, actor: Actor, subscription_id: int
) -> tuple[WebhookSubscription, str]:
    """A new secret (shown once); the old one stops signing at once."""
    subscription = await managed(session, actor, subscription_id)
    secret = secrets.new_secret()
    subscription.secret = secrets.seal(secret, settings.node_key_file)
    subscription.updated_at = utcnow()
    await session.flush()
    return subscription, secret


async def redeliver(session: AsyncSession, actor: Actor, subscription_id: int, from_seq: int) -> WebhookSubscription:
    """Deliver again every change from journal number ``from_seq`` on (not before the subscription began): the
    message in flight is dropped, the subscription resumes if it was paused or disabled."""
    subscription = await managed(session, actor, subscription_id)
    last = await journal.last_seq(session)
    if not subscription.start < from_seq <= last + 1:
        raise WebhookRedeliveryRefused(
            f"fromSeq must be after the subscription began ({subscription.start}) and at most {last + 1}"
        )
    subscription.cursor = from_seq - 1
    subscription.pending_id = subscription.pending_body = subscription.pending_through = None
    subscription.pending_count = 0
    _resume(subscription, utcnow())
    subscription.updated_at = utcnow()
    await session.flush()
    return subscription


def _iso(moment: datetime | None) -> str | None:
    moment = as_utc(moment)
    return moment.isoformat() if moment is not None else None


def subscription_out(subscription: WebhookSubscription, last_seq: int | None = None) -> dict[str, Any]:
    """What the enterprise sees of a subscription (never its secret): filter, state and delivery progress."""
    out: dict[str, Any] = {
        "id": subscription.id,
        "enterpriseId": subscription.enterprise_id,
        "url": subscription.url,
        "description": subscription.description,
        "prefixes": subscription.filter.get("prefixes", []),
        "events": subscription.filter.get("kinds", []),
        "state": subscription.state,
        "delivery": {
            "cursor": subscription.cursor,
            "startSeq": subscription.start,
            "pendingMessage": subscription.pending_id,
            "pendingChanges": subscription.pending_count,
            "consecutiveFailures": subscription.failures,
            "nextAttemptAt": _iso(subscription.next_attempt_at),
            "lastSuccessAt": _iso(subscription.last_success_at),
            "lastFailureAt": _iso(subscription.last_failure_at),
            "lastError": subscription.last_error,
            "disabledAt": _iso(subscription.disabled_at),
            "deliveredMessages": subscription.delivered_messages,
            "deliveredChanges": subscription.delivered_items,
        },
        "createdAt": _iso(subscription.created_at),
        "createdBy": subscription.created_by,
        "updatedAt": _iso(subscription.updated_at),
    }
    if last_seq is not None:  # journal rows not yet looked at for this subscription (most will not be its)
        out["delivery"]["lag"] = max(0, last_seq - subscription.cursor)
    return out


async def attempts(session: AsyncSession, actor: Actor, subscription_id: int, limit: int) -> list[dict[str, Any]]:
    await read(session, actor, subscription_id)
    return [
        {
            "messageId": a.message_id,
            "attemptedAt": _iso(a.attempted_at),
            "ok": a.ok,
            "statusCode": a.status_code,
            "error": a.error,
            "durationMs": a.duration_ms,
            "changes": a.items,
        }
        for a in await repository.attempts(session, subscription_id, limit)
    ]
