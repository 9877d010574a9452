"""Business API reads of one identifier: its detail with template labels, and its history."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, DetailReader, QueriedIdentifier, ReadSession
from registry.handles.history import history as registry_history
from registry.kernel import records as repository
from registry.kernel.errors import IdentifierNotFound
from registry.kernel.values import render
from registry.templates import service as templates
from registry.templates.validation import read_binding
from resolver.errors import HandleDeleted, HistoryForbidden
from resolver.history import describe_changes
from resolver.records import load, may_read_all, visible_values

router = APIRouter(tags=["business: identifiers"], route_class=BUSINESS.route_class)


@router.get("/identityv2/data/detail", summary="An identifier with its template labels (business face)")
async def detail(actor: DetailReader, ident: QueriedIdentifier, session: ReadSession) -> Response:
    handle = ident.handle
    record = await repository.get(session, ident.key)
    if record is not None and record.deleted:
        raise HandleDeleted(handle, record.version)
    record = await load(session, ident)
    values = await visible_values(session, actor, ident, record, public_only=False)
    binding = read_binding(record.record_values)
    names: dict[int, str] = {}
    if binding:
        compiled = await templates.compiled(session, *binding)
        names = {i: item.name for i, item in compiled.items.items()}
    return ok(
        {
            "prefix": ident.prefix,
            "handle": handle,
            "templatePrefix": binding[0] if binding else None,
            "templateVersion": binding[1] if binding else None,
            "version": record.version,
            "updatedAt": record.updated_at.isoformat(),
            "value": [{**render(v), "name": names.get(v["index"])} for v in values],
            "links": trace_links(handle),
        }
    )


def trace_links(handle: str) -> dict[str, str]:
    """Where a client finds the identifier's lifecycle and trace views."""
    quoted = quote(handle, safe="/")
    return {
        "lifecycle": f"/epcis/events?MATCH_anyEPC={quoted}",
        "upstream": f"/trace/upstream?handle={quoted}",
        "downstream": f"/trace/downstream?handle={quoted}",
        "history": f"/identityv2/data/history?handle={quoted}",
    }


@router.get("/identityv2/data/history", summary="Every version of an identifier: who changed which value when")
async def history(ident: QueriedIdentifier, actor: BusinessActor, session: ReadSession) -> Response:
    handle = ident.handle
    current = await repository.get(session, ident.key)
    if current is None:
        raise IdentifierNotFound(f"{handle} not found")
    if not await may_read_all(session, actor, ident, current):
        raise HistoryForbidden(handle)
    return ok({"handle": handle, "versions": describe_changes(await registry_history(session, ident.key))})
