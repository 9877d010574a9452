from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, BigId, JsonType


class Event(Base):
    """A captured EPCIS 2.0 event (ADR 0003). ``body`` is returned by queries as stored."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)  # capture order
    event_id: Mapped[str] = mapped_column(Text, unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(8))
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_time_zone_offset: Mapped[str] = mapped_column(String(6))
    record_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    biz_step: Mapped[str | None] = mapped_column(String(200))
    disposition: Mapped[str | None] = mapped_column(String(200))
    read_point: Mapped[str | None] = mapped_column(Text)
    biz_location: Mapped[str | None] = mapped_column(Text)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    captured_by: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict[str, Any]] = mapped_column(JsonType)


class EventItem(Base):
    """An identifier an event speaks of; the lifecycle query reads these by identifier and time."""

    __tablename__ = "event_items"
    __table_args__ = (Index("ix_event_items_lifecycle", "handle_key", "event_time", "event_seq"),)

    handle_key: Mapped[str] = mapped_column(Text, primary_key=True)
    event_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)  # epc, parent, child, input, output
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TraceLink(Base):
    """One end of a trace edge: ``neighbor_key`` is upstream (``up``) or downstream (``down``) of ``handle_key``."""

    __tablename__ = "trace_links"

    handle_key: Mapped[str] = mapped_column(Text, primary_key=True)
    direction: Mapped[str] = mapped_column(String(4), primary_key=True)
    neighbor_key: Mapped[str] = mapped_column(Text, primary_key=True)
    event_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # transformation, aggregation, association


class RemoteLink(Base):
    """A trace link another node holds about one of our identifiers (its event there), reported to us so that
    traces starting here follow it (ADR 0005). Stored under our identifier, like ``TraceLink``."""

    __tablename__ = "remote_links"

    handle_key: Mapped[str] = mapped_column(Text, primary_key=True)
    direction: Mapped[str] = mapped_column(String(4), primary_key=True)
    neighbor_key: Mapped[str] = mapped_column(Text, primary_key=True, index=True)  # a report replaces by source
    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_node: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReferenceReport(Base):
    """A prefix of another node that one of our records references, as last reported to that node's home: what
    must be withdrawn there when the record stops referencing it (ADR 0005)."""

    __tablename__ = "reference_reports"

    source_key: Mapped[str] = mapped_column(Text, primary_key=True)  # our record
    target_prefix: Mapped[str] = mapped_column(String(128), primary_key=True)  # canonical, e.g. 88.119.1002


class TraceGrant(Base):
    """An owner lets a partner capture and read events about the owner's identifiers."""

    __tablename__ = "trace_grants"

    owner_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    grantee_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PartnerGrant(Base):
    """A grant to an enterprise wherever it is registered, named by its unified social credit code (GB 32100):
    its own node vouches for it in signed node-to-node requests (ADR 0005)."""

    __tablename__ = "partner_grants"
    __table_args__ = (Index("ix_partner_grants_grantee", "grantee_credit_code"),)

    owner_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    grantee_credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
