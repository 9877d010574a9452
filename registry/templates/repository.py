from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.templates.models import Template, TemplateItem


async def get(session: AsyncSession, prefix_key: str, version: str, *, for_update: bool = False) -> Template | None:
    query = select(Template).where(Template.prefix_key == prefix_key, Template.version == version)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def items_of(session: AsyncSession, template_id: int) -> list[TemplateItem]:
    query = select(TemplateItem).where(TemplateItem.template_id == template_id).order_by(TemplateItem.item_index)
    return list((await session.execute(query)).scalars())


async def list_for_prefixes(session: AsyncSession, prefix_keys: list[str]) -> list[Template]:
    query = select(Template).where(Template.prefix_key.in_(prefix_keys)).order_by(Template.prefix_key, Template.version)
    return list((await session.execute(query)).scalars())
