"""EPCIS 2.0 capture: ``POST /epcis/events`` (one event), ``POST /epcis/capture`` (a document), and grants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.actors import business_actor
from foundation.errors import DomainError, InvalidRequest, TooLarge
from foundation.http.faces import JSONBody, epcis_problem, is_decimal, read_json
from registry.events import repository, service
from registry.events.service import CaptureRejected, CaptureResult

router = APIRouter(prefix="/epcis", tags=["traceability: capture"])
federation_router = APIRouter(tags=["traceability: federation"])


def _events_of(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        body = document.get("epcisBody")
        if isinstance(body, dict) and isinstance(body.get("eventList"), list):
            return body["eventList"]
    raise InvalidRequest("expected an EPCISDocument with epcisBody.eventList (or a list of events)",
                         name="capture.document_invalid")


def _report(results: list[CaptureResult]) -> list[dict[str, Any]]:
    return [{"index": r.index, "eventID": r.event_id, "title": r.error.message, "error": r.error.name}
            for r in results if r.error is not None]


@router.post("/events", status_code=201, summary="Capture one event")
async def capture_event(request: Request) -> Response:
    try:
        raw = await read_json(request)
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            [result] = await service.capture(session, request.app.state.settings, actor, [raw], proceed=True)
            if result.error is not None:
                raise result.error
    except DomainError as exc:
        return epcis_problem(exc)
    return JSONBody({"eventID": result.event_id}, status_code=201,
                    headers={"Location": f"/epcis/events/{result.event_id}"})


@router.post("/capture", summary="Capture an EPCISDocument of up to 2000 events (GS1-Capture-Error-Behaviour)")
async def capture_document(request: Request) -> Response:
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").lower()
    capture_id = str(uuid.uuid4())
    started = datetime.now(UTC).isoformat()
    try:
        if behaviour not in ("rollback", "proceed"):
            raise InvalidRequest("GS1-Capture-Error-Behaviour must be rollback or proceed", name="capture.behaviour")
        events = _events_of(await read_json(request))
        limit = request.app.state.settings.batch_max_items
        if len(events) > limit:
            raise TooLarge(f"a capture holds at most {limit} events; this one has {len(events)}",
                           name="capture.too_many_events")
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            results = await service.capture(session, request.app.state.settings, actor, events,
                                            proceed=behaviour == "proceed")
    except CaptureRejected as exc:
        return epcis_problem(exc, captureID=capture_id, success=False, errors=_report(exc.results))
    except DomainError as exc:
        return epcis_problem(exc, captureID=capture_id, success=False)
    errors = _report(results)
    return JSONBody({"captureID": capture_id, "createdAt": started, "finishedAt": datetime.now(UTC).isoformat(),
                     "running": False, "success": not errors, "captureErrorBehaviour": behaviour,
                     "eventIDs": [r.event_id for r in results if r.error is None], "errors": errors},
                    status_code=201)


def _grantee(raw: str) -> int | str:
    """An enterprise id of this node, or an 18-character unified social credit code."""
    if len(raw) == 18:
        return raw.upper()
    if is_decimal(raw):
        return int(raw)
    raise InvalidRequest("the grantee is an enterprise id or an 18-character unified social credit code",
                         name="event.bad_grantee")


async def _grant(request: Request, grantee: str, revoke: bool) -> Response:
    try:
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            await service.grant(session, actor, _grantee(grantee), revoke=revoke)
    except DomainError as exc:
        return epcis_problem(exc)
    return JSONBody({"grantee": _grantee(grantee), "granted": not revoke})


@router.put("/grants/{grantee}", summary="Let another enterprise (id here, or credit code on any node) capture and "
                                         "read events of our identifiers")
async def add_grant(grantee: str, request: Request) -> Response:
    return await _grant(request, grantee, revoke=False)


@router.delete("/grants/{grantee}", summary="Withdraw a grant")
async def remove_grant(grantee: str, request: Request) -> Response:
    return await _grant(request, grantee, revoke=True)


@router.get("/grants", summary="The grants our enterprise has given")
async def list_grants(request: Request) -> Response:
    try:
        async with request.app.state.db.read_session() as session:
            actor = await business_actor(request, session)
            grants = await repository.grants_of(session, actor.enterprise_id or -1)
    except DomainError as exc:
        return epcis_problem(exc)
    return JSONBody({"grants": [{"grantee": grantee, "since": since.isoformat()} for grantee, since in grants]})


@federation_router.post("/federation/v1/trace/links", summary="For other nodes: report links their events and "
                                                               "reference items made to identifiers of this node "
                                                               "(signed request)")
async def receive_links(request: Request) -> Response:
    try:
        payload = await request.app.state.node_requests.verify(await request.body(), dict(request.headers))
        settings, sender, now = request.app.state.settings, payload["fromNode"], datetime.now(UTC)
        rows = service.remote_links(settings, sender, payload.get("links", []), now)
        sources, references = service.remote_references(settings, sender, payload.get("references", []), now)
        async with request.app.state.db.unit_of_work() as session:
            await repository.add_remote_links(session, rows)
            await repository.replace_remote_references(session, sender, sources, references)
    except DomainError as exc:
        return epcis_problem(exc)
    return JSONBody({"accepted": len(rows) + len(references)})
