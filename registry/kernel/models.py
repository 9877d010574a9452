from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, JsonType


class HandleRecord(Base):
    """The current version of one identifier; all its values in one row (one read per resolution).

    ``handle_key`` (canonical form) is the partition / distribution key of this table and of its history.
    """

    __tablename__ = "handles"
    __table_args__ = (Index("ix_handles_prefix_key_handle_key", "prefix_key", "handle_key"),)

    handle_key: Mapped[str] = mapped_column(Text, primary_key=True)
    handle: Mapped[str] = mapped_column(Text)
    prefix_key: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    record_values: Mapped[list[Any]] = mapped_column("values", JsonType)
    template_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(300))


class HandleVersion(Base):
    """A superseded version of an identifier, copied here before the change that replaced it."""

    __tablename__ = "handle_history"

    handle_key: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    handle: Mapped[str] = mapped_column(Text)
    deleted: Mapped[bool] = mapped_column(Boolean)
    record_values: Mapped[list[Any]] = mapped_column("values", JsonType)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(300))
    superseded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IndexedValue(Base):
    """One searchable value of a live record (``handle_value_index``)."""

    __tablename__ = "handle_value_index"
    __table_args__ = (
        Index("ix_handle_value_index_type_value", "type_key", "value_key", "handle_key"),
        Index("ix_handle_value_index_prefix_type_value", "prefix_key", "type_key", "value_key", "handle_key"),
    )

    handle_key: Mapped[str] = mapped_column(Text, primary_key=True)
    value_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    prefix_key: Mapped[str] = mapped_column(String(128))
    type_key: Mapped[str] = mapped_column(Text)
    value_key: Mapped[str] = mapped_column(Text)  # COLLATE "C" on PostgreSQL: byte order, so prefixes are ranges
    public_read: Mapped[bool] = mapped_column(Boolean)


class AliasEntry(Base):
    """One alias value (``ALIAS``) of a live record: a key of another scheme that names the record
    (``handle_aliases``). The primary key makes one handle per key hold against concurrent writers."""

    __tablename__ = "handle_aliases"

    scheme: Mapped[str] = mapped_column(String(32), primary_key=True)
    value_key: Mapped[str] = mapped_column(Text, primary_key=True)  # canonical form (foundation.aliases)
    handle_key: Mapped[str] = mapped_column(Text, index=True)
    value_index: Mapped[int] = mapped_column(BigInteger)
    prefix_key: Mapped[str] = mapped_column(String(128))
