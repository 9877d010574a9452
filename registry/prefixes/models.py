from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base


class Prefix(Base):
    """An enterprise prefix allocated (or applied for) under the node prefix."""

    __tablename__ = "prefixes"

    prefix_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(String(64))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    state: Mapped[int] = mapped_column(SmallInteger)
    # The administrator secret chosen at application time, moved into <prefix>/admin when the prefix is enabled.
    pending_secret_hash: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
