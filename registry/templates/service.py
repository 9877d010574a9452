"""Metadata templates: create, incremental update (items added or disabled, never deleted), deletion of a version no
identifier binds, look-up."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from registry.journal import repository as journal
from registry.kernel import syntax
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.kernel.permissions import identity_key
from registry.kernel.values import TEMPLATE_ITEMS_FROM
from registry.templates import repository
from registry.templates.errors import (
    BoundTemplateNotFound,
    ItemImmutable,
    ItemTypeTaken,
    TemplateExists,
    TemplateForbidden,
    TemplateInUse,
    TemplateNotFound,
)
from registry.templates.models import Template, TemplateItem
from registry.templates.schemas import TemplateIn, template_out
from registry.templates.validation import CompiledTemplate, template_key


def _authorise(actor: Actor, prefix: str) -> None:
    actor.require_admin("managing templates")
    if actor.is_node_admin or identity_key(300, f"{prefix}/admin") in actor.identities:
        return
    raise TemplateForbidden(prefix)


def _item_row(template_id: int, item: Any, index: int) -> TemplateItem:
    return TemplateItem(
        template_id=template_id,
        item_index=index,
        name=item.name,
        id_type=item.id_type,
        required=item.required,
        state=item.state,
        item_metadata=item.metadata.model_dump(by_alias=True, exclude_none=True),
    )


def _free_indexes(taken: set[int]) -> Iterator[int]:
    """Item indexes from 2000 up that ``taken`` does not hold: for items sent without an ``idIndex``."""
    return (i for i in count(TEMPLATE_ITEMS_FROM) if i not in taken)


async def create(session: AsyncSession, actor: Actor, data: TemplateIn) -> dict[str, Any]:
    syntax.check_prefix(data.prefix)
    _authorise(actor, data.prefix)
    now = utcnow()
    template = Template(
        prefix_key=syntax.canonical(data.prefix),
        prefix=data.prefix,
        version=data.version,
        description=data.description,
        industry_category=data.industry_category,
        industry_specific=data.industry_specific,
        industry_trade=data.industry_trade,
        industry_subclass=data.industry_subclass,
        object_type=data.object_type,
        created_by=actor.name,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(template)
            await session.flush()
    except IntegrityError:
        raise TemplateExists(data.prefix, data.version) from None
    free = _free_indexes({i.id_index for i in data.items if i.id_index is not None})
    items = [_item_row(template.id, item, item.id_index or next(free)) for item in data.items]
    session.add_all(items)
    await session.flush()
    out = template_out(template, items)
    await journal.append(
        session,
        [
            journal.entry(
                "template.published",
                f"{data.prefix}@{data.version}",
                template.prefix_key + "@" + data.version,
                actor.name,
                1,
                template=out,
            )
        ],
    )
    return out


async def update(session: AsyncSession, actor: Actor, data: TemplateIn) -> dict[str, Any]:
    """Incremental: new items are added; existing items may change name, required and state only. An item sent
    without ``idIndex`` is the existing item of its ``idType``, else a new one at the lowest free index from 2000.
    The description, industry codes and object type change when they are sent."""
    _authorise(actor, data.prefix)
    template = await repository.get(session, syntax.canonical(data.prefix), data.version, for_update=True)
    if template is None:
        raise TemplateNotFound(data.prefix, data.version)
    existing = {i.item_index: i for i in await repository.items_of(session, template.id)}
    by_type = {i.id_type: i.item_index for i in existing.values()}
    free = _free_indexes(set(existing) | {i.id_index for i in data.items if i.id_index is not None})
    for item in data.items:
        index = item.id_index if item.id_index is not None else by_type.get(item.id_type)
        old = existing.get(index) if index is not None else None
        rule = item.metadata.model_dump(by_alias=True, exclude_none=True)
        if old is None:
            if item.id_type in by_type:
                raise ItemTypeTaken(item.id_type, by_type[item.id_type])
            index = index if index is not None else next(free)
            new = _item_row(template.id, item, index)
            session.add(new)
            existing[index] = new
            by_type[item.id_type] = index
            continue
        if old.id_type != item.id_type or old.item_metadata != rule:
            raise ItemImmutable(old.item_index, old.id_type)
        old.name, old.required, old.state = item.name, item.required, item.state
    for field in ("description", "industry_category", "industry_specific", "industry_trade", "industry_subclass"):
        if getattr(data, field) is not None:
            setattr(template, field, getattr(data, field))
    if data.object_type is not None:
        template.object_type = data.object_type
    template.updated_at = utcnow()
    await session.flush()
    out = template_out(template, list(existing.values()))
    await journal.append(
        session,
        [
            journal.entry(
                "template.updated",
                f"{data.prefix}@{data.version}",
                template.prefix_key + "@" + data.version,
                actor.name,
                template=out,
            )
        ],
    )
    return out


async def delete(session: AsyncSession, actor: Actor, prefix: str, version: str) -> None:
    """Delete a template version that no live identifier binds. Writes that bind a template hold a key-share lock on
    it (``compiled(..., lock=True)``), so none can bind it between the check and the deletion."""
    syntax.check_prefix(prefix)
    _authorise(actor, prefix)
    template = await repository.get(session, syntax.canonical(prefix), version, for_update=True)
    if template is None:
        raise TemplateNotFound(prefix, version)
    if await repository.in_use(session, template_key(prefix, version)):
        raise TemplateInUse(prefix, version)
    await repository.remove(session, template.id)
    await journal.append(
        session,
        [
            journal.entry(
                "template.deleted", f"{template.prefix}@{version}", template.prefix_key + "@" + version, actor.name
            )
        ],
    )


async def get(session: AsyncSession, prefix: str, version: str) -> dict[str, Any]:
    template = await repository.get(session, syntax.canonical(prefix), version)
    if template is None:
        raise TemplateNotFound(prefix, version)
    return template_out(template, await repository.items_of(session, template.id))


async def list_for(session: AsyncSession, prefixes: list[str]) -> list[dict[str, Any]]:
    out = []
    for template in await repository.list_for_prefixes(session, [syntax.canonical(p) for p in prefixes]):
        out.append(template_out(template, await repository.items_of(session, template.id)))
    return out


async def compiled(
    session: AsyncSession,
    prefix: str,
    version: str,
    cache: dict[str, CompiledTemplate] | None = None,
    *,
    lock: bool = False,
) -> CompiledTemplate:
    """The template ready for validation; ``cache`` (per request or batch) avoids reading it twice. ``lock`` (a
    write that binds it): the template cannot be deleted before the write's transaction ends."""
    key = f"{syntax.canonical(prefix)}@{version}"
    if cache is not None and key in cache:
        return cache[key]
    template = await repository.get(session, syntax.canonical(prefix), version, key_share=lock)
    if template is None:
        raise BoundTemplateNotFound(f"template {prefix} version {version} does not exist")
    result = CompiledTemplate.build(template.prefix, template.version, await repository.items_of(session, template.id))
    if cache is not None:
        cache[key] = result
    return result
