from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.enterprises.models import Enterprise
from registry.kernel.models import HandleRecord
from registry.prefixes.models import Prefix


async def get(session: AsyncSession, prefix_key: str, *, for_update: bool = False) -> Prefix | None:
    query = select(Prefix).where(Prefix.prefix_key == prefix_key)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def with_enterprise_state(session: AsyncSession, keys: Iterable[str]) -> dict[str, tuple[Prefix, str]]:
    """Prefix rows and the state of their enterprise, for the write path's checks."""
    query = (
        select(Prefix, Enterprise.state)
        .join(Enterprise, Enterprise.id == Prefix.enterprise_id)
        .where(Prefix.prefix_key.in_(list(keys)))
    )
    return {p.prefix_key: (p, state) for p, state in (await session.execute(query)).all()}


async def of_enterprise(session: AsyncSession, enterprise_id: int) -> list[Prefix]:
    query = select(Prefix).where(Prefix.enterprise_id == enterprise_id).order_by(Prefix.prefix_key)
    return list((await session.execute(query)).scalars())


async def list_all(
    session: AsyncSession,
    *,
    state: int | None = None,
    enterprise_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Prefix]:
    query = select(Prefix).order_by(Prefix.created_at, Prefix.prefix_key).limit(limit).offset(offset)
    if state is not None:
        query = query.where(Prefix.state == state)
    if enterprise_id is not None:
        query = query.where(Prefix.enterprise_id == enterprise_id)
    return list((await session.execute(query)).scalars())


async def numeric_codes(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(Prefix.code))).scalars())


async def live_identifier_count(session: AsyncSession, prefix_key: str) -> int:
    query = (
        select(func.count())
        .select_from(HandleRecord)
        .where(
            HandleRecord.prefix_key == prefix_key,
            HandleRecord.deleted.is_(False),
            HandleRecord.handle_key != prefix_key + "/admin",
        )
    )
    return (await session.execute(query)).scalar_one()
