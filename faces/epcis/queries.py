"""Traceability queries: the lifecycle of an identifier (EPCIS query) and the upstream / downstream trace."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.dependencies import BusinessActor, NodeResolver, NodeSettings, ReadSession
from faces.epcis.render import EPCIS
from foundation.http.responses import JSONBody
from foundation.text import is_decimal, is_true
from registry.events import repository as events_repository
from registry.events.errors import EventNotFound
from registry.kernel import records as handles
from registry.kernel.identifiers import parse_identifier
from registry.kernel.values import render
from resolver.errors import BadQueryParameter, BadQueryTime, MissingEpc, MissingHandle, QueryForbidden
from resolver.records import visible_values
from resolver.trace.access import Access
from resolver.trace.graph import trace
from resolver.trace.lifecycle import MAX_PER_PAGE, decode_token, events_of

router = APIRouter(tags=["traceability: queries"], route_class=EPCIS.route_class)
MAX_TRACE_DEPTH = 50


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadQueryTime(f"{name} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BadQueryTime(f"{name} must carry a time zone")
    return moment


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name, str(default))
    if not is_decimal(raw) or not low <= int(raw) <= high:
        raise BadQueryParameter(name, low, high)
    return int(raw)


def _list(request: Request, name: str) -> list[str]:
    return [part for value in request.query_params.getlist(name) for part in value.split(",") if part]


@router.get("/epcis/events", summary="Lifecycle: every event touching the identifiers in MATCH_anyEPC")
async def lifecycle(request: Request, settings: NodeSettings, actor: BusinessActor, session: ReadSession) -> Response:
    identifiers = [parse_identifier(settings, h) for h in _list(request, "MATCH_anyEPC")]
    if not identifiers:
        raise MissingEpc()
    per_page = _int(request, "perPage", 100, 1, MAX_PER_PAGE)
    token = request.query_params.get("nextPageToken")
    location = request.query_params.get("EQ_bizLocation")
    access = Access(session, settings, actor)
    status = await access.statuses([i.key for i in identifiers])
    for ident in identifiers:
        if status[ident.key][0] == "unauthorised":
            raise QueryForbidden(f"the events of {ident.handle} are for its owner and the partners it granted")
    events, next_token = await events_of(
        session,
        [i.key for i in identifiers],
        event_types=_list(request, "eventType"),
        biz_steps=_list(request, "EQ_bizStep"),
        since=_time(request, "GE_eventTime"),
        until=_time(request, "LT_eventTime"),
        location=parse_identifier(settings, location).handle if location else None,
        per_page=per_page,
        after=decode_token(token) if token else None,
    )
    body = {"type": "EPCISQueryDocument", "epcisBody": {"queryResults": {"resultsBody": {"eventList": events}}}}
    headers = {}
    if next_token:
        body["nextPageToken"] = next_token
        headers["Link"] = f'<{request.url.include_query_params(nextPageToken=next_token)}>; rel="next"'
    return JSONBody(body, headers=headers)


@router.get("/epcis/events/{event_id:path}", summary="One event by its eventID")
async def one_event(event_id: str, settings: NodeSettings, actor: BusinessActor, session: ReadSession) -> Response:
    access = Access(session, settings, actor)
    event = await events_repository.by_event_id(session, event_id)
    if event is None:
        raise EventNotFound(event_id)
    keys = [
        k for role in ("epcList", "childEPCs", "inputEPCList", "outputEPCList") for k in event.body.get(role, [])
    ] + ([event.body["parentID"]] if "parentID" in event.body else [])
    statuses = await access.statuses([parse_identifier(access.settings, k).key for k in keys])
    if not any(s == "found" for s, _ in statuses.values()) and event.captured_by != access.actor.name:
        raise QueryForbidden(f"event {event_id} speaks of nothing you may read")
    return JSONBody(event.body)


async def _trace(
    request: Request,
    settings: NodeSettings,
    actor: BusinessActor,
    session: ReadSession,
    resolver: NodeResolver,
    direction: str,
) -> Response:
    handle = request.query_params.get("handle", "")
    if not handle:
        raise MissingHandle()
    ident = parse_identifier(settings, handle)
    depth = _int(request, "depth", 10, 1, MAX_TRACE_DEPTH)
    access = Access(session, settings, actor)
    graph = await trace(session, access, ident.key, direction, depth, resolver.remote_trace)
    if is_true(request.query_params.get("values", "false")):
        await _attach_values(session, access, graph)
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
            node["values"] = [
                render(v) for v in await visible_values(session, access.actor, ident, record, False, grantees)
            ]


@router.get("/trace/upstream", summary="What went into this identifier (transformation, aggregation inputs)")
async def upstream(
    request: Request, settings: NodeSettings, actor: BusinessActor, session: ReadSession, resolver: NodeResolver
) -> Response:
    return await _trace(request, settings, actor, session, resolver, "upstream")


@router.get("/trace/downstream", summary="Where this identifier went (outputs, containers)")
async def downstream(
    request: Request, settings: NodeSettings, actor: BusinessActor, session: ReadSession, resolver: NodeResolver
) -> Response:
    return await _trace(request, settings, actor, session, resolver, "downstream")
