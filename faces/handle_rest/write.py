"""Handle REST (Handle.Net v9 compatible) writes: PUT / DELETE /api/handles/{handle}, GET /api/handles?prefix=."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from faces.actors import handle_actor
from foundation.config import Settings
from foundation.errors import AlreadyExists, DomainError, Forbidden, InvalidRequest, Unauthenticated
from foundation.http.faces import DATABASE_INT_MAX, JSONBody, handle_error, is_decimal, is_true, read_json
from registry.handles.service import CREATED_CONCURRENTLY, Outcome, RecordWriter, charge_registrations
from registry.kernel import records as repository
from registry.kernel import syntax
from registry.kernel.actor import Actor
from registry.kernel.identifiers import parse_identifier
from registry.kernel.permissions import Perm, is_admin
from registry.kernel.syntax import Identifier
from registry.kernel.values import Value, parse_values

router = APIRouter(tags=["Handle REST"])


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if is_true(raw):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise InvalidRequest(f"query parameter {name} must be true or false", name="request.bad_flag")


def _indexes(request: Request) -> set[int]:
    raw = request.query_params.getlist("index")
    if not all(is_decimal(r) for r in raw):
        raise InvalidRequest("index parameters must be integers", name="request.bad_index")
    return {int(r) for r in raw}


async def _writer_actor(request: Request, session: AsyncSession) -> Actor:
    actor = await handle_actor(request, session)
    if not actor.authenticated:
        raise Unauthenticated("changing identifiers requires authentication", name="auth.required")
    return actor


@router.put("/api/handles/{handle:path}", summary="Create or replace an identifier (Handle.Net v9)")
async def put_handle(handle: str, request: Request) -> Response:
    settings = _settings(request)
    try:
        overwrite = _flag(request, "overwrite", True)
        if _flag(request, "mintNewSuffix", False):
            handle = handle + str(uuid.uuid4())
        ident = parse_identifier(settings, handle)
        indexes = _indexes(request)
        values = parse_values(await read_json(request), max_ttl=settings.max_ttl, default_ttl=settings.default_ttl)
        for attempt in (1, 2):
            try:
                outcome = await _put_once(request, ident, values, indexes, overwrite)
                break
            except AlreadyExists as exc:
                # an upsert that lost the race to create the record: the second attempt replaces it
                if exc.name != CREATED_CONCURRENTLY or not overwrite or attempt == 2:
                    raise
    except DomainError as exc:
        return handle_error(exc, handle)
    return JSONBody({"responseCode": 1, "handle": handle}, status_code=201 if outcome.created else 200)


async def _put_once(request: Request, ident: Identifier, values: list[Value], indexes: set[int],
                    overwrite: bool) -> Outcome:
    settings = _settings(request)
    async with request.app.state.db.unit_of_work() as session:
        writer = RecordWriter(session, settings, await _writer_actor(request, session))
        if indexes:
            outcome = await writer.patch(ident, values, indexes, overwrite=overwrite)
        elif overwrite:
            outcome = (await writer.replace([(ident, values)], create_missing=True))[0]
        else:
            outcome = (await writer.create([(ident, values)], identical_ok=False))[0]
        if outcome.error is not None:
            raise outcome.error
        charge_registrations(request.app.state.budgets, [outcome])
    return outcome


@router.delete("/api/handles/{handle:path}", summary="Delete an identifier, or some of its values")
async def delete_handle(handle: str, request: Request) -> Response:
    settings = _settings(request)
    try:
        ident = parse_identifier(settings, handle)
        indexes = _indexes(request)
        async with request.app.state.db.unit_of_work() as session:
            writer = RecordWriter(session, settings, await _writer_actor(request, session))
            if indexes:
                outcome = await writer.remove_values(ident, indexes)
            else:
                outcome = (await writer.delete([ident]))[0]
            if outcome.error is not None:
                raise outcome.error
    except DomainError as exc:
        return handle_error(exc, handle)
    return JSONBody({"responseCode": 1, "handle": handle})


@router.get("/api/handles", summary="List the identifiers under a prefix (administrators of the prefix)")
async def list_handles(request: Request) -> Response:
    prefix = request.query_params.get("prefix", "")
    try:
        syntax.check_prefix(prefix)
        page = int(request.query_params.get("page", "0"))
        page_size = int(request.query_params.get("pageSize", "1000"))
        if not 0 <= page <= DATABASE_INT_MAX // 10000 or not 1 <= page_size <= 10000:
            raise InvalidRequest("page must be >= 0 and pageSize 1..10000", name="request.bad_page")
    except ValueError:
        return handle_error(InvalidRequest("page and pageSize must be integers", name="request.bad_page"))
    except DomainError as exc:
        return handle_error(exc)
    try:
        async with request.app.state.db.read_session() as session:
            actor = await handle_actor(request, session)
            na = await repository.get(session, syntax.canonical(syntax.na_handle(prefix)))
            admins = [v for v in (na.record_values if na and not na.deleted else []) if v["type"] == "HS_ADMIN"]

            async def load(key: str):
                record = await repository.get(session, key)
                return None if record is None or record.deleted else record.record_values

            if not await is_admin(actor, admins, [Perm.LIST_HANDLES], load):
                raise Forbidden(f"listing {prefix} is for its administrators", name="handle.list_forbidden")
            total, handles = await repository.list_by_prefix(session, syntax.canonical(prefix),
                                                             offset=page * page_size, limit=page_size)
    except DomainError as exc:
        return handle_error(exc)
    return JSONBody({"responseCode": 1, "prefix": prefix, "totalCount": str(total), "page": page,
                     "pageSize": page_size, "handles": handles})

