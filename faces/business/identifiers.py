"""Business API (SNMS style) for identifiers: single and batch create / update / delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.actors import business_actor
from foundation.config import Settings
from foundation.errors import DomainError, InvalidRequest
from foundation.http.faces import read_json, snms_error, snms_ok, snms_status
from registry.handles.items import item_handle, write_items
from registry.handles.service import Outcome, charge_registrations
from registry.kernel.identifiers import parse_identifier

router = APIRouter(tags=["business: identifiers"])


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _item_result(outcome: Outcome) -> dict[str, Any]:
    error = outcome.error
    if error is None:
        return {"handle": outcome.handle, "code": 1, "msg": "success", "version": outcome.version}
    return {"handle": outcome.handle, "code": snms_status(error), "msg": error.message, "error": error.name}


def _batch_items(raw: Any, limit: int) -> list[Any]:
    if isinstance(raw, dict):
        raw = raw.get("data", raw.get("items", raw.get("handles")))
    if not isinstance(raw, list):
        raise InvalidRequest("batch body must be a list of items (or {\"data\": [...]})", name="request.bad_batch")
    if not raw:
        raise InvalidRequest("batch is empty", name="request.empty_batch")
    if len(raw) > limit:
        raise InvalidRequest(f"batch has {len(raw)} items; at most {limit} are allowed", name="request.batch_too_big")
    return raw


async def _write(request: Request, raw_items: list[Any], operation: str) -> list[Outcome]:
    """Authenticate the caller and write the items in one transaction; outcomes in request order."""
    async with request.app.state.db.unit_of_work() as session:
        actor = await business_actor(request, session)
        outcomes = await write_items(session, _settings(request), actor, raw_items, operation, parse_identifier)
        charge_registrations(request.app.state.budgets, outcomes)
        return outcomes


async def _single(request: Request, operation: str, item: Any) -> Response:
    try:
        outcome = (await _write(request, [item], operation))[0]
        if outcome.error is not None:
            raise outcome.error
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok({"handle": outcome.handle, "version": outcome.version})


async def _single_from_body(request: Request, operation: str) -> Response:
    try:
        item = await read_json(request)
    except DomainError as exc:
        return snms_error(exc)
    return await _single(request, operation, item)


@router.post("/identityv2/data", summary="Register one identifier")
async def create(request: Request) -> Response:
    return await _single_from_body(request, "create")


@router.put("/identityv2/data", summary="Replace the values of one identifier")
async def update(request: Request) -> Response:
    return await _single_from_body(request, "update")


@router.delete("/identityv2/data", summary="Delete one identifier (its name stays reserved)")
async def delete(request: Request) -> Response:
    handle = request.query_params.get("handle")
    if handle is None:
        try:
            handle = item_handle(await read_json(request))
        except DomainError as exc:
            return snms_error(exc)
    return await _single(request, "delete", handle)


async def _batch(request: Request, operation: str) -> Response:
    try:
        items = _batch_items(await read_json(request), _settings(request).batch_max_items)
        outcomes = await _write(request, items, operation)
    except DomainError as exc:
        return snms_error(exc)
    results = [_item_result(o) for o in outcomes]
    failed = sum(1 for o in outcomes if not o.ok)
    return snms_ok(results, message=f"{len(outcomes) - failed} succeeded, {failed} failed")


@router.post("/identityv2/data/batchCreate", summary="Register up to 2000 identifiers; per-item results")
async def batch_create(request: Request) -> Response:
    return await _batch(request, "create")


@router.post("/identityv2/data/batchUpdate", summary="Replace up to 2000 identifiers; per-item results")
async def batch_update(request: Request) -> Response:
    return await _batch(request, "update")


@router.post("/identityv2/data/batchDelete", summary="Delete up to 2000 identifiers; per-item results")
async def batch_delete(request: Request) -> Response:
    return await _batch(request, "delete")
