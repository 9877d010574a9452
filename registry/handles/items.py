"""The business (SNMS) shape of an identifier: ``{"handle", "templateVersion", "value": [...]}``, and the write of a
list of such items that the business API's single and batch requests (and ``secnode import``) share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.errors import DomainError
from registry.handles.errors import BadTemplateVersion, ItemNotObject
from registry.handles.outcome import Outcome
from registry.handles.writer import RecordWriter
from registry.kernel import syntax
from registry.kernel.actor import Actor
from registry.kernel.values import TEMPLATE_INDEX, Value, parse_values
from registry.templates import repository as templates
from registry.templates.errors import BoundTemplateNotFound, TemplateBindingReserved
from registry.templates.validation import binding_value

ParseIdentifier = Callable[[Settings, str], syntax.Identifier]


class TemplateLocator:
    """Finds which prefix's template a ``templateVersion`` means: the identifier's own prefix first, then the
    node prefix (the seed templates). Remembers answers for a whole batch."""

    def __init__(self, session: AsyncSession, settings: Settings):
        self.session = session
        self.settings = settings
        self._known: dict[tuple[str, str], bool] = {}

    async def _exists(self, prefix: str, version: str) -> bool:
        key = (syntax.canonical(prefix), version)
        if key not in self._known:
            self._known[key] = await templates.get(self.session, key[0], version) is not None
        return self._known[key]

    async def locate(self, ident: syntax.Identifier, version: str, prefix: str | None) -> str:
        if prefix:
            return prefix
        for candidate in (ident.prefix, self.settings.node_prefix):
            if await self._exists(candidate, version):
                return candidate
        raise BoundTemplateNotFound(
            f"template version {version!r} exists neither under {ident.prefix} nor under {self.settings.node_prefix}"
        )


def item_handle(item: Any) -> str:
    handle = item.get("handle") if isinstance(item, dict) else None
    if isinstance(handle, str):
        return handle
    if isinstance(item, str):
        return item
    return ""


async def to_record(
    item: Any, settings: Settings, locator: TemplateLocator, parse_identifier: ParseIdentifier
) -> tuple[syntax.Identifier, list[Value]]:
    """Turn one business item into an identifier and its values (with the template binding at 1001)."""
    if not isinstance(item, dict):
        raise ItemNotObject()
    ident = parse_identifier(settings, item_handle(item))
    raw_values = item.get("value", item.get("values", []))
    values = parse_values(
        raw_values if raw_values is not None else [], max_ttl=settings.max_ttl, default_ttl=settings.default_ttl
    )
    if any(v["index"] == TEMPLATE_INDEX for v in values):
        raise TemplateBindingReserved(TEMPLATE_INDEX)
    version = item.get("templateVersion")
    if version is not None:
        if not isinstance(version, str) or not version:
            raise BadTemplateVersion()
        template_prefix = await locator.locate(ident, version, item.get("templatePrefix"))
        values.append(binding_value(template_prefix, version, settings.default_ttl))
        values.sort(key=lambda v: v["index"])
    return ident, values


async def write_items(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    raw_items: list[Any],
    operation: str,
    parse_identifier: ParseIdentifier,
) -> list[Outcome]:
    """Parse every business item, run the writer on the valid ones, and return one outcome per item in order.

    ``operation``: ``create`` (an existing identical record counts as success, so a retried batch is harmless),
    ``update`` or ``delete`` (an already deleted record counts as success). Flushes; the caller commits.
    """
    writer = RecordWriter(session, settings, actor)
    outcomes: list[Outcome | None] = [None] * len(raw_items)
    parsed: list[tuple[int, Any]] = []
    locator = TemplateLocator(session, settings)
    for position, item in enumerate(raw_items):
        try:
            if operation == "delete":
                parsed.append((position, parse_identifier(settings, item_handle(item))))
            else:
                parsed.append((position, await to_record(item, settings, locator, parse_identifier)))
        except DomainError as exc:
            outcomes[position] = Outcome(item_handle(item), error=exc)
    records = [record for _, record in parsed]
    if operation == "create":
        results = await writer.create(records, identical_ok=True)
    elif operation == "update":
        results = await writer.replace(records, create_missing=False)
    else:
        results = await writer.delete(records, missing_ok=True)
    for (position, _), result in zip(parsed, results, strict=True):
        outcomes[position] = result
    return [o for o in outcomes if o is not None]
