"""Search by value, as the Handle reverse-lookup servlet ("hrls", B2HANDLE) answers it and pyhandle's
``search_handle`` calls it: ``GET /hrls/handles?URL=https://example.com/*`` answers a JSON list of identifiers.

Every query parameter but the reserved ones is a field: a value type and the value searched, ``*`` matching any
text. Reserved: ``limit`` (or ``pageSize``; 1..10000, default 1000), ``page`` (matches skipped, as the servlet
counts it), ``retrieverecords`` (answer each identifier's readable values), ``prefix`` (only this prefix; also
``/hrls/handles/{prefix}``) and ``enforcesql`` (accepted, no effect).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import PlainTextResponse, Response

from faces.dependencies import HandleActor, NodeSettings, ReadSession
from faces.handle_rest.render import HANDLE
from foundation.config import Settings
from foundation.errors import BadFlag
from foundation.http.responses import JSONBody
from foundation.text import is_decimal, is_true
from registry.kernel import syntax
from registry.kernel.actor import Actor
from registry.kernel.values import Value
from resolver import search as searching
from resolver.errors import BadQueryParameter, SearchUnauthenticated

router = APIRouter(tags=["Handle REST: search"], route_class=HANDLE.route_class)

RESERVED = frozenset({"limit", "pagesize", "page", "retrieverecords", "prefix", "enforcesql"})
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MAX_SKIPPED = 1_000_000  # each skipped match is read from the index: deeper pages need a narrower pattern


def fields_of(request: Request, reserved: frozenset[str]) -> list[tuple[str, str]]:
    """The (type, value) pairs of the query, in order, without the reserved parameters."""
    return [(name, value) for name, value in request.query_params.multi_items() if name.lower() not in reserved]


def _parameter(request: Request, names: tuple[str, ...]) -> str | None:
    wanted = set(names)
    for name, value in request.query_params.multi_items():
        if name.lower() in wanted:
            return value
    return None


def _number(request: Request, names: tuple[str, ...], default: int, low: int, high: int) -> int:
    raw = _parameter(request, names)
    if raw is None:
        return default
    if not is_decimal(raw) or not low <= int(raw) <= high:
        raise BadQueryParameter(names[0], low, high)
    return int(raw)


def _retrieve_records(request: Request) -> bool:
    raw = _parameter(request, ("retrieverecords",))
    if raw is None or raw.lower() in ("false", "0", "no", ""):
        return False
    if is_true(raw):
        return True
    raise BadFlag("retrieveRecords")


def _shown(value: Value) -> dict[str, str]:
    """A value as the servlet answers it: its type and its data as text (JSON text for structured data)."""
    data = value["data"]["value"]
    return {"type": value["type"], "value": data if isinstance(data, str) else orjson.dumps(data).decode()}


@router.get("/hrls/ping", summary="The reverse-lookup servlet's liveness answer", response_class=PlainTextResponse)
async def ping() -> Response:
    return PlainTextResponse("OK\n")


@router.get(
    "/hrls/handles",
    summary="Search identifiers by value (reverse look-up, as the Handle reverse-lookup servlet)",
    responses={200: {"description": "a JSON list of identifiers; with retrieverecords=true an object of their values"}},
)
async def search_handles(
    request: Request, settings: NodeSettings, actor: HandleActor, session: ReadSession
) -> Response:
    return await _search(request, settings, actor, session, _parameter(request, ("prefix",)))


@router.get("/hrls/handles/{prefix}", summary="Search identifiers of one prefix by value")
async def search_prefix(
    prefix: str, request: Request, settings: NodeSettings, actor: HandleActor, session: ReadSession
) -> Response:
    return await _search(request, settings, actor, session, prefix)


async def _search(
    request: Request, settings: Settings, actor: Actor, session: AsyncSession, prefix: str | None
) -> Response:
    if not actor.authenticated and not settings.search_anonymous:
        raise SearchUnauthenticated()
    terms = searching.terms_of(fields_of(request, RESERVED))
    limit = _number(request, ("limit", "pagesize"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    skipped = _number(request, ("page",), 0, 0, MAX_SKIPPED)
    retrieve = _retrieve_records(request)
    prefix_key = syntax.canonical(syntax.check_prefix(prefix)) if prefix is not None else None
    found = await searching.search(
        session, actor, terms, prefix_key=prefix_key, offset=skipped, limit=limit, timeout_ms=settings.search_timeout_ms
    )
    if retrieve:
        return JSONBody({f.handle: [_shown(v) for v in f.values] for f in found})
    return JSONBody([f.handle for f in found])
