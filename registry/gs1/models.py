from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base


class CompanyPrefixDeclaration(Base):
    """A GS1 company prefix an enterprise says GS1 licensed to it. One row per prefix: declared again after a
    rejection or a revocation, by the same or another enterprise, it is the same row."""

    __tablename__ = "gs1_company_prefixes"

    company_prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    state: Mapped[int] = mapped_column(SmallInteger)
    evidence: Mapped[str | None] = mapped_column(String(500))  # e.g. the GS1 member organisation's certificate
    reason: Mapped[str | None] = mapped_column(String(500))  # why rejected or revoked
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
