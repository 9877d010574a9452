"""The SQL of bulk export: a prefix's live records streamed through a server-side cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, distinct, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.db import Database
from registry.kernel.models import HandleRecord


def _live(prefix_key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return HandleRecord.prefix_key == prefix_key, HandleRecord.deleted.is_(False)


async def template_keys(session: AsyncSession, prefix_key: str) -> list[str]:
    """The templates the prefix's live records are bound to."""
    query = (
        select(distinct(HandleRecord.template_key))
        .where(*_live(prefix_key), HandleRecord.template_key.is_not(None))
        .order_by(HandleRecord.template_key)
    )
    return [key for key in (await session.execute(query)).scalars() if key is not None]  # none is, by the query


async def live_records(
    db: Database,
    prefix_key: str,
    *,
    chunk: int = 1000,
) -> AsyncIterator[tuple[str, list[Any], str | None]]:
    """(handle, values, template key) of every live record of a prefix, in key order. One statement, so one
    consistent snapshot; the rows arrive ``chunk`` at a time, so memory stays flat however many there are."""
    query = (
        select(HandleRecord.handle, HandleRecord.record_values, HandleRecord.template_key)
        .where(*_live(prefix_key))
        .order_by(HandleRecord.handle_key)
        .execution_options(yield_per=chunk)
    )
    async with db.read_engine.connect() as connection:
        result = await connection.stream(query)
        async for handle, values, template_key in result:
            yield handle, values, template_key
