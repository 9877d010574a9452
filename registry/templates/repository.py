from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.kernel.models import HandleRecord
from registry.templates.models import Template, TemplateItem


async def get(
    session: AsyncSession, prefix_key: str, version: str, *, for_update: bool = False, key_share: bool = False
) -> Template | None:
    """``for_update``: lock the row against every other lock (changes, deletion); ``key_share``: keep it from being
    deleted until the transaction ends (writes that bind it), without blocking each other."""
    query = select(Template).where(Template.prefix_key == prefix_key, Template.version == version)
    if for_update:
        query = query.with_for_update()
    elif key_share:
        query = query.with_for_update(read=True, key_share=True)
    return (await session.execute(query)).scalar_one_or_none()


async def in_use(session: AsyncSession, template_key: str) -> bool:
    """Whether a live identifier binds the template. No index holds ``template_key``: this reads the identifiers
    until it finds one (rare: only deleting a template asks)."""
    query = (
        select(HandleRecord.handle_key)
        .where(HandleRecord.template_key == template_key, HandleRecord.deleted.is_(False))
        .limit(1)
    )
    return (await session.execute(query)).first() is not None


async def remove(session: AsyncSession, template_id: int) -> None:
    await session.execute(delete(TemplateItem).where(TemplateItem.template_id == template_id))
    await session.execute(delete(Template).where(Template.id == template_id))


async def items_of(session: AsyncSession, template_id: int) -> list[TemplateItem]:
    query = select(TemplateItem).where(TemplateItem.template_id == template_id).order_by(TemplateItem.item_index)
    return list((await session.execute(query)).scalars())


async def list_for_prefixes(session: AsyncSession, prefix_keys: list[str]) -> list[Template]:
    query = select(Template).where(Template.prefix_key.in_(prefix_keys)).order_by(Template.prefix_key, Template.version)
    return list((await session.execute(query)).scalars())
