from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.enterprises.models import Enterprise


async def get(session: AsyncSession, enterprise_id: int, *, for_update: bool = False) -> Enterprise | None:
    query = select(Enterprise).where(Enterprise.id == enterprise_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def by_credit_code(session: AsyncSession, code: str) -> Enterprise | None:
    return (await session.execute(select(Enterprise).where(Enterprise.credit_code == code))).scalar_one_or_none()


async def credit_code_of(session: AsyncSession, enterprise_id: int) -> str | None:
    return await session.scalar(select(Enterprise.credit_code).where(Enterprise.id == enterprise_id))


async def list_all(
    session: AsyncSession,
    *,
    state: str | None = None,
    enterprise_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Enterprise]:
    query = select(Enterprise).order_by(Enterprise.id).limit(limit).offset(offset)
    if state:
        query = query.where(Enterprise.state == state)
    if enterprise_id is not None:
        query = query.where(Enterprise.id == enterprise_id)
    return list((await session.execute(query)).scalars())
