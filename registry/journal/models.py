from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, BigId, JsonType


class JournalEntry(Base):
    """One committed change, numbered in commit order (see ADR 0001). The hand-off to upward sync."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    subject_key: Mapped[str] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SyncCursor(Base):
    """How far a consumer of the journal (the upward reporter) has had its rows acknowledged."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInteger)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class EscrowDeposit(Base):
    """A data escrow deposit this node wrote (ADR 0014): the journal numbers it covers, its file, and for each
    destination (``upstream``, ``agent``) whether it was received, the attempts and the last error. ``resend`` counts
    the times it was sent again after a failure (RFC 8909)."""

    __tablename__ = "escrow_deposits"

    deposit_id: Mapped[str] = mapped_column(String(13), primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))  # FULL | INCR
    prev_id: Mapped[str | None] = mapped_column(String(13))
    from_seq: Mapped[int] = mapped_column(BigInteger)
    to_seq: Mapped[int] = mapped_column(BigInteger)
    watermark: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    file_path: Mapped[str] = mapped_column(Text)
    resend: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    destinations: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
