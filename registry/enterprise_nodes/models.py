from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, JsonType


class EnterpriseNode(Base):
    """An enterprise prefix of this node served by an enterprise node: its site information (Handle.Net's
    ``siteinfo.json`` form) and the last health check's outcome."""

    __tablename__ = "enterprise_nodes"

    prefix_key: Mapped[str] = mapped_column(String(128), ForeignKey("prefixes.prefix_key"), primary_key=True)
    site: Mapped[dict[str, Any]] = mapped_column(JsonType)
    homed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    homed_by: Mapped[str] = mapped_column(String(300))
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    healthy: Mapped[bool | None] = mapped_column(Boolean)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
