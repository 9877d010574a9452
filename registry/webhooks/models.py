"""Webhook subscriptions and their delivery state (ADR 0013).

A subscription is a stream of signed messages to one URL. Its ``source`` says what produces them: ``changes`` (the
change journal, filtered to the subscription's prefixes); EPCIS query subscriptions are meant to be another source on
the same table and the same delivery loop. The stream's position (``cursor``), the message in flight (``pending_*``:
kept until the receiver acknowledges it, so a retry sends the same id and body) and the failure streak live in the
row, so a restart loses nothing and a delivery is retried until acknowledged: at least once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, BigId, JsonType
from registry.enterprises.models import Enterprise  # noqa: F401 - the table its foreign key names, for the mapper


class SubscriptionState(str, enum.Enum):
    """``active``: delivered. ``paused``: the enterprise stopped it (changes wait in the journal, nothing is lost).
    ``disabled``: the node stopped it after a long failure streak; re-enabling resumes where it stopped."""

    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    # what the source delivers: for ``changes`` {"prefixes": [prefix keys], "kinds": [journal kinds]}
    filter: Mapped[dict[str, Any]] = mapped_column(JsonType)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)  # sealed with the node's key (registry.webhooks.secrets)
    description: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    cursor: Mapped[int] = mapped_column(BigInteger)  # the source's position delivered (or skipped) through
    start: Mapped[int] = mapped_column(
        BigInteger
    )  # the source's position when subscribed: redelivery goes no further back
    pending_id: Mapped[str | None] = mapped_column(String(100))
    pending_body: Mapped[str | None] = mapped_column(Text)
    pending_through: Mapped[int | None] = mapped_column(
        BigInteger
    )  # the cursor once the pending message is acknowledged
    pending_count: Mapped[int] = mapped_column(Integer, default=0)  # items (changes) it carries
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed attempts
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_messages: Mapped[int] = mapped_column(BigInteger, default=0)
    delivered_items: Mapped[int] = mapped_column(BigInteger, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One attempt to deliver one message (the most recent ones per subscription are kept)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(100))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(Integer)
