"""Node-to-node federation: signed requests from other secondary nodes. They report the links their events and
reference items made to this node's identifiers, and ask for the trace neighbours of this node's identifiers on
behalf of an enterprise they vouch for. Errors are RFC 7807 problems, as on the EPCIS face."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.dependencies import NodeRequests, NodeSettings, ReadSession, UnitOfWork
from faces.epcis.render import ERROR_BODY, PROBLEM_JSON, render
from foundation.config import Settings
from foundation.errors import BadNodeRequest, TooManyHandles
from foundation.http.face import Face
from foundation.http.responses import JSONBody
from registry.enterprises.credit_code import is_valid as credit_code_valid
from registry.events import repository as events
from registry.events import service
from registry.kernel.actor import Actor
from registry.kernel.identifiers import parse_identifier
from resolver.trace.access import Access
from resolver.trace.federation import MAX_HANDLES, NEIGHBOURS_PATH, neighbours_answer
from resolver.trace.graph import expand_local

FEDERATION = Face("federation", render, paths=("/federation/",), error_body=ERROR_BODY, error_media_type=PROBLEM_JSON)
router = APIRouter(tags=["traceability: federation"], route_class=FEDERATION.route_class)


async def _signed_payload(request: Request, verifier: NodeRequests) -> dict[str, Any]:
    return await verifier.verify(await request.body(), dict(request.headers))


@router.post(
    "/federation/v1/trace/links",
    summary="For other nodes: report links their events and reference items "
    "made to identifiers of this node (signed request)",
)
async def receive_links(
    request: Request, settings: NodeSettings, verifier: NodeRequests, session: UnitOfWork
) -> Response:
    payload = await _signed_payload(request, verifier)
    sender, now = payload["fromNode"], datetime.now(UTC)
    rows = service.remote_links(settings, sender, payload.get("links", []), now)
    sources, references = service.remote_references(settings, sender, payload.get("references", []), now)
    await events.add_remote_links(session, rows)
    await events.replace_remote_references(session, sender, sources, references)
    return JSONBody({"accepted": len(rows) + len(references)})


def _neighbours_request(settings: Settings, payload: dict[str, Any]) -> tuple[str, list[str], str | None]:
    direction, handles, credit_code = payload.get("direction"), payload.get("handles"), payload.get("onBehalfOf")
    if direction not in ("up", "down") or not isinstance(handles, list) or not all(isinstance(h, str) for h in handles):
        raise BadNodeRequest("direction (up or down) and handles (a list of identifiers) are required")
    if len(handles) > MAX_HANDLES:
        raise TooManyHandles(MAX_HANDLES)
    if credit_code is not None and not (isinstance(credit_code, str) and credit_code_valid(credit_code)):
        raise BadNodeRequest("onBehalfOf is a unified social credit code or null")
    return direction, [parse_identifier(settings, h).key for h in handles], credit_code


@router.post(
    NEIGHBOURS_PATH,
    summary="For other nodes: statuses and trace links of identifiers of this node, read "
    "on behalf of an enterprise the asking node vouches for (signed request)",
)
async def neighbours(
    request: Request, settings: NodeSettings, verifier: NodeRequests, session: ReadSession
) -> Response:
    payload = await _signed_payload(request, verifier)
    direction, keys, credit_code = _neighbours_request(settings, payload)
    actor = Actor(name=f"node:{payload['fromNode']}:{credit_code or 'anonymous'}")
    access = Access(session, settings, actor, credit_code=credit_code)
    statuses, links = await expand_local(session, access, keys, direction)
    event_ids = await events.event_ids(session, {link[2] for link in links if isinstance(link[2], int)})
    return JSONBody(neighbours_answer(statuses, links, event_ids))
