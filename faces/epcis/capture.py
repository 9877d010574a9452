"""EPCIS 2.0 capture: ``POST /epcis/events`` (one event), ``POST /epcis/capture`` (a document), and grants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.dependencies import BusinessActor, JsonPayload, NodeSettings, ReadSession, UnitOfWork
from faces.epcis.render import EPCIS
from foundation.errors import DomainError
from foundation.http.requests import read_json
from foundation.http.responses import JSONBody
from foundation.text import is_decimal
from registry.events import repository, service
from registry.events.errors import BadCaptureBehaviour, BadGrantee, CaptureDocumentInvalid, TooManyEvents
from registry.events.service import CaptureRejected, CaptureResult

router = APIRouter(prefix="/epcis", tags=["traceability: capture"], route_class=EPCIS.route_class)


def _events_of(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        body = document.get("epcisBody")
        if isinstance(body, dict) and isinstance(body.get("eventList"), list):
            return body["eventList"]
    raise CaptureDocumentInvalid()


def _report(results: list[CaptureResult]) -> list[dict[str, Any]]:
    return [
        {"index": r.index, "eventID": r.event_id, "title": r.error.message, "error": r.error.name}
        for r in results
        if r.error is not None
    ]


@router.post("/events", status_code=201, summary="Capture one event")
async def capture_event(
    settings: NodeSettings, body: JsonPayload, actor: BusinessActor, session: UnitOfWork
) -> Response:
    [result] = await service.capture(session, settings, actor, [body], proceed=True)
    if result.error is not None:
        raise result.error
    return JSONBody(
        {"eventID": result.event_id}, status_code=201, headers={"Location": f"/epcis/events/{result.event_id}"}
    )


@router.post(
    "/capture", status_code=201, summary="Capture an EPCISDocument of up to 2000 events (GS1-Capture-Error-Behaviour)"
)
async def capture_document(
    request: Request, settings: NodeSettings, actor: BusinessActor, session: UnitOfWork
) -> Response:
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").lower()
    capture_id = str(uuid.uuid4())
    started = datetime.now(UTC).isoformat()
    try:
        if behaviour not in ("rollback", "proceed"):
            raise BadCaptureBehaviour()
        events = _events_of(await read_json(request))
        if len(events) > settings.batch_max_items:
            raise TooManyEvents(settings.batch_max_items, len(events))
        results = await service.capture(session, settings, actor, events, proceed=behaviour == "proceed")
    except DomainError as exc:  # the problem names the capture job it refused, and each refused event
        exc.problem = {"captureID": capture_id, "success": False}
        if isinstance(exc, CaptureRejected):
            exc.problem["errors"] = _report(exc.results)
        raise
    errors = _report(results)
    return JSONBody(
        {
            "captureID": capture_id,
            "createdAt": started,
            "finishedAt": datetime.now(UTC).isoformat(),
            "running": False,
            "success": not errors,
            "captureErrorBehaviour": behaviour,
            "eventIDs": [r.event_id for r in results if r.error is None],
            "errors": errors,
        },
        status_code=201,
    )


def _grantee(raw: str) -> int | str:
    """An enterprise id of this node, or an 18-character unified social credit code."""
    if len(raw) == 18:
        return raw.upper()
    if is_decimal(raw):
        return int(raw)
    raise BadGrantee()


@router.put(
    "/grants/{grantee}",
    summary="Let another enterprise (id here, or credit code on any node) capture and read events of our identifiers",
)
async def add_grant(grantee: str, actor: BusinessActor, session: UnitOfWork) -> Response:
    await service.grant(session, actor, _grantee(grantee), revoke=False)
    return JSONBody({"grantee": _grantee(grantee), "granted": True})


@router.delete("/grants/{grantee}", summary="Withdraw a grant")
async def remove_grant(grantee: str, actor: BusinessActor, session: UnitOfWork) -> Response:
    await service.grant(session, actor, _grantee(grantee), revoke=True)
    return JSONBody({"grantee": _grantee(grantee), "granted": False})


@router.get("/grants", summary="The grants our enterprise has given")
async def list_grants(actor: BusinessActor, session: ReadSession) -> Response:
    grants = await repository.grants_of(session, actor.enterprise_id or -1)
    return JSONBody({"grants": [{"grantee": grantee, "since": since.isoformat()} for grantee, since in grants]})
