"""Handle REST (Handle.Net v9 compatible) writes: PUT / DELETE /api/handles/{handle}, GET /api/handles?prefix=."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.dependencies import (
    HandleActor,
    HandleWriter,
    JsonPayload,
    NodeDatabase,
    NodeSettings,
    ReadSession,
    RequestBudgets,
    UnitOfWork,
)
from faces.handle_rest.render import HANDLE
from faces.handle_rest.search import fields_of
from foundation.config import Settings
from foundation.db import Database
from foundation.errors import AlreadyExists, BadFlag, BadIndex, BadPage
from foundation.http.budgets import Budgets
from foundation.http.requests import DATABASE_INT_MAX
from foundation.http.responses import JSONBody
from foundation.text import is_decimal, is_true
from registry.handles import listing
from registry.handles.errors import HandleCreatedConcurrently
from registry.handles.outcome import Outcome, charge_registrations
from registry.handles.writer import RecordWriter
from registry.kernel.actor import Actor
from registry.kernel.identifiers import parse_identifier
from registry.kernel.syntax import Identifier
from registry.kernel.values import Value, parse_values
from resolver import search as searching

router = APIRouter(tags=["Handle REST"], route_class=HANDLE.route_class)


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if is_true(raw):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadFlag(name)


def _indexes(request: Request) -> set[int]:
    raw = request.query_params.getlist("index")
    if not all(is_decimal(r) for r in raw):
        raise BadIndex("index parameters must be integers")
    return {int(r) for r in raw}


def _put_indexes(request: Request, values: list[Value]) -> set[int] | None:
    """The values a PUT adds or replaces, keeping the others; None: the whole record. ``index=various`` (Handle.Net:
    "the handle values given in the request entity should be added or replaced") names every value of the body."""
    raw = request.query_params.getlist("index")
    if not raw:
        return None
    if any(r.lower() == "various" for r in raw):
        if len(raw) > 1:
            raise BadIndex("index=various names every value of the body; it takes no other index parameter")
        if not values:
            raise BadIndex("index=various needs at least one value in the body")
        return {v["index"] for v in values}
    return _indexes(request)


@router.put(
    "/api/handles/{handle:path}",
    summary="Create or replace an identifier (Handle.Net v9)",
    responses={201: {"description": "created (200: replaced)"}},
)
async def put_handle(
    handle: str,
    request: Request,
    settings: NodeSettings,
    db: NodeDatabase,
    body: JsonPayload,
    actor: HandleWriter,
    budgets: RequestBudgets,
) -> Response:
    overwrite = _flag(request, "overwrite", True)
    if _flag(request, "mintNewSuffix", False):
        handle = handle + str(uuid.uuid4())
    ident = parse_identifier(settings, handle)
    values = parse_values(body, max_ttl=settings.max_ttl, default_ttl=settings.default_ttl)
    indexes = _put_indexes(request, values)
    for attempt in (1, 2):  # each attempt is a transaction of its own
        try:
            outcome = await _put_once(db, settings, actor, budgets, ident, values, indexes, overwrite)
            break
        except AlreadyExists as exc:
            # an upsert that lost the race to create the record: the second attempt replaces it
            if not isinstance(exc, HandleCreatedConcurrently) or not overwrite or attempt == 2:
                raise
    return JSONBody({"responseCode": 1, "handle": handle}, status_code=201 if outcome.created else 200)


async def _put_once(
    db: Database,
    settings: Settings,
    actor: Actor,
    budgets: Budgets,
    ident: Identifier,
    values: list[Value],
    indexes: set[int] | None,
    overwrite: bool,
) -> Outcome:
    async with db.unit_of_work() as session:
        writer = RecordWriter(session, settings, actor)
        if indexes is not None:
            outcome = await writer.patch(ident, values, indexes, overwrite=overwrite)
        elif overwrite:
            outcome = (await writer.replace([(ident, values)], create_missing=True))[0]
        else:
            outcome = (await writer.create([(ident, values)], identical_ok=False))[0]
        if outcome.error is not None:
            raise outcome.error
        charge_registrations(budgets, [outcome])
    return outcome


@router.delete("/api/handles/{handle:path}", summary="Delete an identifier, or some of its values")
async def delete_handle(
    handle: str, request: Request, settings: NodeSettings, actor: HandleWriter, session: UnitOfWork
) -> Response:
    ident = parse_identifier(settings, handle)
    indexes = _indexes(request)
    writer = RecordWriter(session, settings, actor)
    if indexes:
        outcome = await writer.remove_values(ident, indexes)
    else:
        outcome = (await writer.delete([ident]))[0]
    if outcome.error is not None:
        raise outcome.error
    return JSONBody({"responseCode": 1, "handle": handle})


def _page(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "0"))
        page_size = int(request.query_params.get("pageSize", "1000"))
    except ValueError:
        raise BadPage("page and pageSize must be integers") from None
    if not 0 <= page <= DATABASE_INT_MAX // 10000 or not 0 <= page_size <= 10000:
        raise BadPage("page must be >= 0 and pageSize 0..10000 (0: the count alone)")
    return page, page_size


LISTING_PARAMETERS = frozenset({"prefix", "page", "pagesize"})


@router.get(
    "/api/handles",
    summary="List the identifiers under a prefix (administrators of the prefix); other parameters filter by value",
)
async def list_handles(request: Request, settings: NodeSettings, actor: HandleActor, session: ReadSession) -> Response:
    listing.require_identity(actor)
    prefix = request.query_params.get("prefix", "")
    page, page_size = _page(request)
    fields = fields_of(request, LISTING_PARAMETERS)
    terms = searching.terms_of(fields) if fields else None
    if terms is None:
        total, handles = await listing.list_handles(session, actor, prefix, offset=page * page_size, limit=page_size)
    else:  # by value: the identifiers whose values, readable by the caller, match every field
        prefix_key = await listing.require_lister(session, actor, prefix)
        bound = settings.search_timeout_ms
        total = await searching.count(session, actor, terms, prefix_key=prefix_key, timeout_ms=bound)
        found = (
            await searching.search(
                session, actor, terms, prefix_key=prefix_key, offset=page * page_size, limit=page_size, timeout_ms=bound
            )
            if page_size
            else []
        )
        handles = [f.handle for f in found]
    return JSONBody(
        {
            "responseCode": 1,
            "prefix": prefix,
            "totalCount": str(total),
            "page": page,
            "pageSize": page_size,
            "handles": handles,
        }
    )
