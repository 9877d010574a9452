"""Business API (SNMS v5) for identifiers: single and batch create / update / delete. Single writes answer
``data: true`` and batches ``message: "success"`` with one result per item, as the SNMS documentation shows; the
record's new version is in the ``X-Record-Version`` header of a single write."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from faces.business.render import BUSINESS, ok, snms_status
from faces.dependencies import BusinessActor, JsonPayload, NodeSettings, RequestBudgets, UnitOfWork
from foundation.errors import BadBatch, BatchTooBig, EmptyBatch
from foundation.http.requests import read_json
from registry.handles.items import item_handle, write_items
from registry.handles.outcome import Outcome, charge_registrations
from registry.kernel.identifiers import parse_identifier

router = APIRouter(tags=["business: identifiers"], route_class=BUSINESS.route_class)


def _item_result(outcome: Outcome) -> dict[str, Any]:
    if outcome.ok:
        return {"handle": outcome.handle, "code": 1, "msg": "success", "version": outcome.version}
    error = outcome.error
    assert error is not None
    return {"handle": outcome.handle, "code": snms_status(error), "msg": error.message, "error": error.name}


def _batch_items(raw: Any, limit: int) -> list[Any]:
    if isinstance(raw, dict):
        raw = raw.get("data", raw.get("items", raw.get("handles")))
    if not isinstance(raw, list):
        raise BadBatch()
    if not raw:
        raise EmptyBatch()
    if len(raw) > limit:
        raise BatchTooBig(len(raw), limit)
    return raw


class _Writes:
    """Writes items in the request's one transaction, charging new registrations to their prefixes' budgets."""

    def __init__(self, session: UnitOfWork, settings: NodeSettings, actor: BusinessActor, budgets: RequestBudgets):
        self.session, self.settings, self.actor, self.budgets = session, settings, actor, budgets

    async def __call__(self, raw_items: list[Any], operation: str) -> list[Outcome]:
        outcomes = await write_items(self.session, self.settings, self.actor, raw_items, operation, parse_identifier)
        charge_registrations(self.budgets, outcomes)
        return outcomes

    async def single(self, operation: str, item: Any) -> Response:
        outcome = (await self([item], operation))[0]
        if outcome.error is not None:
            raise outcome.error
        answer = ok(True)
        if outcome.version is not None:
            answer.headers["x-record-version"] = str(outcome.version)
        return answer

    async def batch(self, operation: str, body: Any) -> Response:
        outcomes = await self(_batch_items(body, self.settings.batch_max_items), operation)
        return ok([_item_result(o) for o in outcomes])


@router.post("/identityv2/data", summary="Register one identifier")
async def create(body: JsonPayload, writes: _Writes = Depends()) -> Response:
    return await writes.single("create", body)


@router.put("/identityv2/data", summary="Replace the values of one identifier")
async def update(body: JsonPayload, writes: _Writes = Depends()) -> Response:
    return await writes.single("update", body)


@router.delete("/identityv2/data", summary="Delete one identifier (its name stays reserved)")
async def delete(request: Request, writes: _Writes = Depends()) -> Response:
    handle = request.query_params.get("handle")
    if handle is None:
        handle = item_handle(await read_json(request))
    return await writes.single("delete", handle)


@router.post("/identityv2/data/batchCreate", summary="Register up to 2000 identifiers; per-item results")
async def batch_create(body: JsonPayload, writes: _Writes = Depends()) -> Response:
    return await writes.batch("create", body)


@router.put("/identityv2/data/batchUpdate", summary="Replace up to 2000 identifiers; per-item results")
async def batch_update(body: JsonPayload, writes: _Writes = Depends()) -> Response:
    return await writes.batch("update", body)


@router.post("/identityv2/data/batchUpdate", summary="Alias of PUT /identityv2/data/batchUpdate", deprecated=True)
async def batch_update_post(body: JsonPayload, writes: _Writes = Depends()) -> Response:
    return await writes.batch("update", body)


@router.delete(
    "/identityv2/data/batchDelete", summary="Delete up to 2000 identifiers (a list of handle strings); per-item results"
)
async def batch_delete(body: JsonPayload, writes: _Writes = Depends()) -> Response:
    return await writes.batch("delete", body)


@router.post("/identityv2/data/batchDelete", summary="Alias of DELETE /identityv2/data/batchDelete", deprecated=True)
async def batch_delete_post(body: JsonPayload, writes: _Writes = Depends()) -> Response:
    return await writes.batch("delete", body)
