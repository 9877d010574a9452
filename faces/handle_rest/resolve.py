"""Handle REST resolution through the framework: ``GET /api/handles/{handle}`` for authenticated readers and signed
answers (anonymous ones take the raw hot path first)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.dependencies import HandleActor, NodeResolver, NodeSettings, NodeSigningKey, NodeTrustKey, ReadSession
from faces.handle_rest.answers import foreign_answer, referral_answer
from faces.handle_rest.render import HANDLE
from foundation.crypto.record_signatures import sign_values
from foundation.http.responses import JSONBody
from foundation.text import is_true
from registry.kernel.identifiers import parse_identifier
from registry.kernel.values import render
from registry.trust.errors import NodeNotCertified
from registry.trust.service import node_certified, sign_record
from resolver.records import Query, load, visible_values

router = APIRouter(tags=["Handle REST"], route_class=HANDLE.route_class)


def _flag(request: Request, name: str) -> bool:
    return is_true(request.query_params.get(name, "false"))


@router.get(
    "/api/handles/{handle:path}",
    summary="Resolve an identifier (Handle.Net v9)",
    responses={307: {"description": "another node serves it (with recurse=false): a referral to it"}},
)
async def resolve(
    handle: str,
    request: Request,
    settings: NodeSettings,
    resolver: NodeResolver,
    actor: HandleActor,
    session: ReadSession,
    signing_key: NodeSigningKey,
    trust_key: NodeTrustKey,
) -> Response:
    ident = parse_identifier(settings, handle)
    query = Query.from_params(
        request.query_params.getlist("type"), request.query_params.getlist("index"), _flag(request, "publicOnly")
    )
    if not resolver.serves(ident):  # another node's identifier: its home node answers
        status, body, headers = await foreign_answer(resolver, handle, ident, request.url.query)
        return Response(body, status_code=status, headers=headers, media_type="application/json")
    homed = await resolver.enterprise_node(ident)
    if homed is not None:  # served by an enterprise node under this one: referred there, whoever asks
        status, body, _ = referral_answer(handle, homed[1])
        return Response(body, status_code=status, media_type="application/json")
    record = await load(session, ident)
    visible = await visible_values(session, actor, ident, record, query.public_only)
    values = [render(v) for v in query.select(visible)]
    signed = request.query_params.get("signed", "false")
    if signed.lower() == "handle" and values:  # Handle's own HS_SIGNATURE, by the certified trust key (ADR 0015)
        if not await node_certified(session, settings):
            raise NodeNotCertified(settings.node_prefix)
        values.append(sign_record(settings, trust_key(), handle, [render(v) for v in visible]))
    elif is_true(signed) and values:  # the digests cover every value this reader may see
        values.append(
            sign_values(
                handle,
                [render(v) for v in visible],
                signing_key(),
                settings.node_prefix,
                settings.signature_lifetime_seconds,
            )
        )
    if not values:
        return JSONBody(
            {"responseCode": 200, "handle": handle, "values": [], "message": "no value matches the query"},
            status_code=200,
        )
    return JSONBody({"responseCode": 1, "handle": handle, "values": values})
