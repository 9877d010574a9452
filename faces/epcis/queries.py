"""Traceability queries: the lifecycle of an identifier (EPCIS query) and the upstream / downstream trace."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from faces.actors import business_actor
from foundation.errors import DomainError, Forbidden, InvalidRequest, NotFound, TooLarge
from foundation.http.faces import JSONBody, epcis_problem, is_decimal, is_true
from registry.enterprises.credit_code import is_valid as credit_code_valid
from registry.events import repository as events_repository
from registry.events.models import Event
from registry.kernel import records as handles
from registry.kernel.actor import Actor
from registry.kernel.identifiers import parse_identifier
from registry.kernel.values import render
from resolver.records import visible_values
from resolver.trace.access import Access
from resolver.trace.federation import MAX_HANDLES, NEIGHBOURS_PATH, neighbours_answer
from resolver.trace.graph import expand_local, trace
from resolver.trace.lifecycle import MAX_PER_PAGE, decode_token, events_of

router = APIRouter(tags=["traceability: queries"])
MAX_TRACE_DEPTH = 50


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{name} must be an ISO 8601 time", name="query.bad_time") from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"{name} must carry a time zone", name="query.bad_time")
    return moment


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name, str(default))
    if not is_decimal(raw) or not low <= int(raw) <= high:
        raise InvalidRequest(f"{name} must be an integer from {low} to {high}", name="query.bad_parameter")
    return int(raw)


def _list(request: Request, name: str) -> list[str]:
    return [part for value in request.query_params.getlist(name) for part in value.split(",") if part]


@router.get("/epcis/events", summary="Lifecycle: every event touching the identifiers in MATCH_anyEPC")
async def lifecycle(request: Request) -> Response:
    settings = request.app.state.settings
    try:
        identifiers = [parse_identifier(settings, h) for h in _list(request, "MATCH_anyEPC")]
        if not identifiers:
            raise InvalidRequest("MATCH_anyEPC (one or more identifiers) is required", name="query.missing_epc")
        per_page = _int(request, "perPage", 100, 1, MAX_PER_PAGE)
        token = request.query_params.get("nextPageToken")
        location = request.query_params.get("EQ_bizLocation")
        async with request.app.state.db.read_session() as session:
            access = Access(session, settings, await business_actor(request, session))
            status = await access.statuses([i.key for i in identifiers])
            for ident in identifiers:
                if status[ident.key][0] == "unauthorised":
                    raise Forbidden(f"the events of {ident.handle} are for its owner and the partners it granted",
                                    name="query.forbidden")
            events, next_token = await events_of(
                session, [i.key for i in identifiers], event_types=_list(request, "eventType"),
                biz_steps=_list(request, "EQ_bizStep"), since=_time(request, "GE_eventTime"),
                until=_time(request, "LT_eventTime"),
                location=parse_identifier(settings, location).handle if location else None,
                per_page=per_page, after=decode_token(token) if token else None)
    except DomainError as exc:
        return epcis_problem(exc)
    body = {"type": "EPCISQueryDocument", "epcisBody": {"queryResults": {"resultsBody": {"eventList": events}}}}
    headers = {}
    if next_token:
        body["nextPageToken"] = next_token
        headers["Link"] = f'<{request.url.include_query_params(nextPageToken=next_token)}>; rel="next"'
    return JSONBody(body, headers=headers)


@router.get("/epcis/events/{event_id:path}", summary="One event by its eventID")
async def one_event(event_id: str, request: Request) -> Response:
    try:
        async with request.app.state.db.read_session() as session:
            access = Access(session, request.app.state.settings, await business_actor(request, session))
            event = (await session.execute(select(Event).where(Event.event_id == event_id))).scalar_one_or_none()
            if event is None:
                raise NotFound(f"event {event_id} does not exist", name="event.not_found")
            keys = [k for role in ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
                    for k in event.body.get(role, [])] + ([event.body["parentID"]] if "parentID" in event.body
                                                           else [])
            statuses = await access.statuses([parse_identifier(access.settings, k).key for k in keys])
            if not any(s == "found" for s, _ in statuses.values()) and event.captured_by != access.actor.name:
                raise Forbidden(f"event {event_id} speaks of nothing you may read", name="query.forbidden")
    except DomainError as exc:
        return epcis_problem(exc)
    return JSONBody(event.body)


async def _trace(request: Request, direction: str) -> Response:
    settings = request.app.state.settings
    try:
        handle = request.query_params.get("handle", "")
        if not handle:
            raise InvalidRequest("handle is required", name="query.missing_handle")
        ident = parse_identifier(settings, handle)
        depth = _int(request, "depth", 10, 1, MAX_TRACE_DEPTH)
        async with request.app.state.db.read_session() as session:
            access = Access(session, settings, await business_actor(request, session))
            graph = await trace(session, access, ident.key, direction, depth, request.app.state.resolver.remote_trace)
            if is_true(request.query_params.get("values", "false")):
                await _attach_values(session, access, graph)
    except DomainError as exc:
        return epcis_problem(exc)
    return JSONBody(graph)


async def _attach_values(session, access: Access, graph: dict) -> None:
    """Each readable node of this node gets the values its reader may see: public ones, restricted ones granted to
    it, all of them for its administrators."""
    nodes = {}
    for node in graph["nodes"]:
        if node["status"] == "found":
            ident = parse_identifier(access.settings, node["id"])
            if access.is_local(ident.key):
                nodes[ident.key] = (node, ident)
    records = await handles.get_many(session, list(nodes))
    grantees = await access.grantees()
    for key, (node, ident) in nodes.items():
        record = records.get(key)
        if record is not None and not record.deleted:
            node["values"] = [render(v) for v in await visible_values(session, access.actor, ident, record,
                                                                      False, grantees)]


@router.get("/trace/upstream", summary="What went into this identifier (transformation, aggregation inputs)")
async def upstream(request: Request) -> Response:
    return await _trace(request, "upstream")


@router.get("/trace/downstream", summary="Where this identifier went (outputs, containers)")
async def downstream(request: Request) -> Response:
    return await _trace(request, "downstream")


def _neighbours_request(settings, payload: dict) -> tuple[str, list[str], str | None]:
    direction, handles, credit_code = payload.get("direction"), payload.get("handles"), payload.get("onBehalfOf")
    if direction not in ("up", "down") or not isinstance(handles, list) or not all(isinstance(h, str)
                                                                                   for h in handles):
        raise InvalidRequest("direction (up or down) and handles (a list of identifiers) are required",
                             name="federation.bad_request")
    if len(handles) > MAX_HANDLES:
        raise TooLarge(f"at most {MAX_HANDLES} identifiers per request", name="federation.too_many")
    if credit_code is not None and not (isinstance(credit_code, str) and credit_code_valid(credit_code)):
        raise InvalidRequest("onBehalfOf is a unified social credit code or null", name="federation.bad_request")
    return direction, [parse_identifier(settings, h).key for h in handles], credit_code


@router.post(NEIGHBOURS_PATH, summary="For other nodes: statuses and trace links of identifiers of this node, read "
                                      "on behalf of an enterprise the asking node vouches for (signed request)")
async def neighbours(request: Request) -> Response:
    settings = request.app.state.settings
    try:
        payload = await request.app.state.node_requests.verify(await request.body(), dict(request.headers))
        direction, keys, credit_code = _neighbours_request(settings, payload)
        actor = Actor(name=f"node:{payload['fromNode']}:{credit_code or 'anonymous'}")
        async with request.app.state.db.read_session() as session:
            access = Access(session, settings, actor, credit_code=credit_code)
            statuses, links = await expand_local(session, access, keys, direction)
            event_ids = await events_repository.event_ids(
                session, {link[2] for link in links if isinstance(link[2], int)})
    except DomainError as exc:
        return epcis_problem(exc)
    return JSONBody(neighbours_answer(statuses, links, event_ids))
