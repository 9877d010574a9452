from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, BigId


class AuditEntry(Base):
    """One write or administrative request and its outcome, chained to the entry before it by a hash
    (``registry.audit.chain``). Numbered without gaps, so a deleted entry shows as a missing number."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(300))  # the authenticated identity, or "claimed:<name>" when refused
    action: Mapped[str] = mapped_column(Text)  # method and path, e.g. "PUT /api/handles/88.118.1042/COIL-1"
    source: Mapped[str] = mapped_column(String(64))  # the client's address
    result: Mapped[int] = mapped_column(Integer)  # HTTP status of the answer
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
