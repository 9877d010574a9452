"""Storage of webhook subscriptions and their attempts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.prefixes.models import Prefix
from registry.webhooks.models import SubscriptionState, WebhookAttempt, WebhookSubscription


async def get(session: AsyncSession, subscription_id: int, *, for_update: bool = False) -> WebhookSubscription | None:
    query = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def of_enterprise(session: AsyncSession, enterprise_id: int) -> list[WebhookSubscription]:
    query = (
        select(WebhookSubscription)
        .where(WebhookSubscription.enterprise_id == enterprise_id)
        .order_by(WebhookSubscription.id)
    )
    return list((await session.execute(query)).scalars())


async def list_all(session: AsyncSession, limit: int = 10_000) -> list[WebhookSubscription]:
    return list(
        (await session.execute(select(WebhookSubscription).order_by(WebhookSubscription.id).limit(limit))).scalars()
    )


async def count_of_enterprise(session: AsyncSession, enterprise_id: int) -> int:
    query = select(func.count()).where(WebhookSubscription.enterprise_id == enterprise_id)
    return (await session.execute(query)).scalar_one()


async def owned_prefix_keys(session: AsyncSession, enterprise_id: int, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are prefixes the enterprise holds now (in any state: a disabled prefix keeps its owner)."""
    query = select(Prefix.prefix_key).where(Prefix.enterprise_id == enterprise_id, Prefix.prefix_key.in_(list(keys)))
    return set((await session.execute(query)).scalars())


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        WebhookSubscription.state == SubscriptionState.ACTIVE.value,
        WebhookSubscription.next_attempt_at <= now,
        or_(WebhookSubscription.lease_until.is_(None), WebhookSubscription.lease_until < now),
    )


async def any_due(session: AsyncSession, now: datetime) -> bool:
    """Whether some subscription may be claimed: a read, so an idle node (on SQLite: its one writer) is not taken
    for a write transaction every poll."""
    return (await session.execute(select(WebhookSubscription.id).where(*_due(now)).limit(1))).first() is not None


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[WebhookSubscription]:
    """Active subscriptions due for an attempt whose lease is free, locked for this transaction; on PostgreSQL rows
    another worker is claiming are skipped, not waited for."""
    query = (
        select(WebhookSubscription)
        .where(*_due(now))
        .order_by(WebhookSubscription.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


async def add_attempt(session: AsyncSession, attempt: WebhookAttempt, keep: int) -> None:
    """Record an attempt and forget the subscription's older ones beyond the ``keep`` most recent."""
    session.add(attempt)
    await session.flush()
    newest = (
        select(WebhookAttempt.id)
        .where(WebhookAttempt.subscription_id == attempt.subscription_id)
        .order_by(WebhookAttempt.id.desc())
        .limit(keep)
    )
    await session.execute(
        delete(WebhookAttempt).where(
            WebhookAttempt.subscription_id == attempt.subscription_id,
            WebhookAttempt.id.not_in(newest.scalar_subquery()),
        )
    )


async def attempts(session: AsyncSession, subscription_id: int, limit: int) -> list[WebhookAttempt]:
    query = (
        select(WebhookAttempt)
        .where(WebhookAttempt.subscription_id == subscription_id)
        .order_by(WebhookAttempt.id.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
