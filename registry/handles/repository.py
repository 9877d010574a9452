"""All SQL of identifier records: set-based reads and writes for single and batch operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from registry.handles.models import HandleRecord, HandleVersion


def _insert_ignoring_conflicts(session: AsyncSession):
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(HandleRecord).on_conflict_do_nothing(index_elements=["handle_key"])


async def get(session: AsyncSession, key: str) -> HandleRecord | None:
    return await session.get(HandleRecord, key)


async def get_many(session: AsyncSession, keys: Sequence[str], *, for_update: bool = False) -> dict[str, HandleRecord]:
    if not keys:
        return {}
    query: Select = select(HandleRecord).where(HandleRecord.handle_key.in_(list(keys)))
    if for_update:
        query = query.with_for_update()
    # populate_existing: rows locked FOR UPDATE must be read fresh, not taken from the identity map.
    rows = (await session.execute(query.execution_options(populate_existing=True))).scalars()
    return {row.handle_key: row for row in rows}


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert records that do not exist yet; returns the keys actually inserted (others already existed)."""
    if not rows:
        return set()
    statement = _insert_ignoring_conflicts(session).returning(HandleRecord.handle_key)
    result = await session.execute(statement, rows)
    return set(result.scalars())


async def insert_one_new(session: AsyncSession, row: dict[str, Any]) -> bool:
    statement = _insert_ignoring_conflicts(session).values(**row).returning(HandleRecord.handle_key)
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def save_history(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(HandleVersion), rows)


_UPDATED_COLUMNS = ("handle", "version", "deleted", "values", "template_key", "updated_at", "updated_by")
_UPDATE = (update(HandleRecord.__table__)
           .where(HandleRecord.__table__.c.handle_key == bindparam("b_handle_key"))
           .values({name: bindparam("b_" + name) for name in _UPDATED_COLUMNS}))


async def update_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Rewrite records by key (executemany). Each row has handle_key and the columns of ``_UPDATED_COLUMNS``
    (``values`` under the attribute name ``record_values``)."""
    if rows:
        params = [{"b_handle_key": r["handle_key"], "b_values": r["record_values"],
                   **{"b_" + n: r[n] for n in _UPDATED_COLUMNS if n != "values"}} for r in rows]
        await session.execute(_UPDATE, params)


async def history_of(session: AsyncSession, key: str) -> list[HandleVersion]:
    query = select(HandleVersion).where(HandleVersion.handle_key == key).order_by(HandleVersion.version)
    return list((await session.execute(query)).scalars())


async def list_by_prefix(session: AsyncSession, prefix_key: str, *, offset: int, limit: int) -> tuple[int, list[str]]:
    live = (HandleRecord.prefix_key == prefix_key, HandleRecord.deleted.is_(False))
    total = (await session.execute(select(func.count()).select_from(HandleRecord).where(*live))).scalar_one()
    query = (select(HandleRecord.handle).where(*live).order_by(HandleRecord.handle_key)
             .offset(offset).limit(limit))
    return total, list((await session.execute(query)).scalars())
