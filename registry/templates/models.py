from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Identity, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, BigId, JsonType


class Template(Base):
    """An industry metadata template, identified by (prefix, version); the version never changes."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("prefix_key", "version", name="uq_templates_prefix_version"),)

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    prefix_key: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(500))
    industry_category: Mapped[str | None] = mapped_column(String(16))
    industry_specific: Mapped[str | None] = mapped_column(String(16))
    industry_trade: Mapped[str | None] = mapped_column(String(16))
    industry_subclass: Mapped[str | None] = mapped_column(String(16))
    object_type: Mapped[int | None] = mapped_column(SmallInteger)  # SNMS type: 1 active identifier carrier, 2 other
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TemplateItem(Base):
    """One item of a template: a value index >= 2000 with an English type and a Chinese display name."""

    __tablename__ = "template_items"
    __table_args__ = (UniqueConstraint("template_id", "id_type", name="uq_template_items_type"),)

    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"), primary_key=True)
    item_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(64))
    required: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[int] = mapped_column(SmallInteger)
    item_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType)
