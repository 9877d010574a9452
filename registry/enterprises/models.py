from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Identity, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, BigId


class Enterprise(Base):
    """A real-name record of an organisation that may hold prefixes under this node."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(32))
    industry_code: Mapped[str] = mapped_column(String(8))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(32))
    contact_email: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
