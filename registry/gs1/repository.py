from __future__ import annotations

from sqlalchemy import func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.gs1.models import CompanyPrefixDeclaration
from registry.gs1.states import HOLDING, DeclarationState

_TABLE = CompanyPrefixDeclaration


async def get(
    session: AsyncSession, company_prefix: str, *, for_update: bool = False
) -> CompanyPrefixDeclaration | None:
    query = select(_TABLE).where(_TABLE.company_prefix == company_prefix)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def overlapping(session: AsyncSession, company_prefix: str) -> list[CompanyPrefixDeclaration]:
    """Holding declarations (awaiting audit or approved) of other digits where one is a prefix of the other: GS1
    never allocates both, so at most one of them can be real."""
    candidate = literal(company_prefix)
    query = select(_TABLE).where(
        _TABLE.company_prefix != company_prefix,
        _TABLE.state.in_([s.value for s in HOLDING]),
        or_(
            func.substr(candidate, 1, func.length(_TABLE.company_prefix)) == _TABLE.company_prefix,
            func.substr(_TABLE.company_prefix, 1, len(company_prefix)) == company_prefix,
        ),
    )
    return list((await session.execute(query)).scalars())


async def approved_covering(session: AsyncSession, digits: str) -> CompanyPrefixDeclaration | None:
    """The approved declaration whose company prefix begins ``digits`` (a key's digits from where its company
    prefix starts), or None."""
    candidates = [digits[:n] for n in range(4, min(12, len(digits)) + 1)]
    query = select(_TABLE).where(_TABLE.company_prefix.in_(candidates), _TABLE.state == DeclarationState.APPROVED.value)
    return (await session.execute(query)).scalars().first()


async def list_all(
    session: AsyncSession, *, enterprise_id: int | None, state: int | None, limit: int, offset: int
) -> list[CompanyPrefixDeclaration]:
    query = select(_TABLE).order_by(_TABLE.company_prefix).limit(limit).offset(offset)
    if enterprise_id is not None:
        query = query.where(_TABLE.enterprise_id == enterprise_id)
    if state is not None:
        query = query.where(_TABLE.state == state)
    return list((await session.execute(query)).scalars())
