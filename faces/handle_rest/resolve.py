"""Resolution faces: Handle REST ``GET /api/handles/{handle}`` and the business ``/identityv2/data/detail``."""

from __future__ import annotations

import base64
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.actors import business_actor, handle_actor
from foundation.crypto.keys import key_id, load_signing_key, public_key_raw
from foundation.crypto.record_signatures import sign_values
from foundation.errors import DomainError, Forbidden, HandleNotFound, InvalidRequest, Unavailable
from foundation.http.faces import JSONBody, handle_error, is_true, snms_error, snms_ok
from registry.handles.service import history as registry_history
from registry.kernel import records as repository
from registry.kernel.actor import ANONYMOUS
from registry.kernel.identifiers import parse_identifier
from registry.kernel.syntax import Identifier
from registry.kernel.values import render
from registry.templates import service as templates
from registry.templates.validation import read_binding
from resolver.history import describe_changes
from resolver.records import Query, load, may_read_all, visible_values

router = APIRouter(tags=["resolution"])


def _flag(request: Request, name: str) -> bool:
    return is_true(request.query_params.get(name, "false"))


@router.get("/api/handles/{handle:path}", summary="Resolve an identifier (Handle.Net v9)")
async def resolve(handle: str, request: Request) -> Response:
    settings = request.app.state.settings
    try:
        ident = parse_identifier(settings, handle)
        query = Query.from_params(request.query_params.getlist("type"), request.query_params.getlist("index"),
                                  _flag(request, "publicOnly"))
        resolver = request.app.state.resolver
        if not resolver.serves(ident):  # another node's identifier: its home node answers
            status, body, headers = await resolver.resolve_foreign(handle, ident, request.url.query)
            return Response(body, status_code=status, headers=headers, media_type="application/json")
        async with request.app.state.db.read_session() as session:
            actor = await handle_actor(request, session) if "authorization" in request.headers else ANONYMOUS
            record = await load(session, ident)
            visible = await visible_values(session, actor, ident, record, query.public_only)
        values = [render(v) for v in query.select(visible)]
        if _flag(request, "signed") and values:  # the digests cover every value this reader may see
            values.append(sign_values(handle, [render(v) for v in visible], node_signing_key(request.app),
                                      settings.node_prefix, settings.signature_lifetime_seconds))
    except DomainError as exc:
        return handle_error(exc, handle)
    if not values:
        return JSONBody({"responseCode": 200, "handle": handle, "values": [],
                         "message": "no value matches the query"}, status_code=200)
    return JSONBody({"responseCode": 1, "handle": handle, "values": values})


@router.get("/.well-known/secnode/signing-key", summary="The public key this node signs records with")
async def signing_key(request: Request) -> Response:
    try:
        public = node_signing_key(request.app).public_key()
    except DomainError as exc:
        return snms_error(exc)
    return JSONBody({"nodePrefix": request.app.state.settings.node_prefix, "keyId": key_id(public),
                     "publicKey": base64.b64encode(public_key_raw(public)).decode("ascii")})


def node_signing_key(app):
    """The node's Ed25519 key (``secnode init`` makes it), read once."""
    key = getattr(app.state, "signing_key", None)
    if key is None:
        try:
            key = app.state.signing_key = load_signing_key(app.state.settings.node_key_file)
        except OSError:
            raise Unavailable("this node has no signing key yet (secnode init makes it)",
                              name="signature.no_key") from None
    return key


def _handle_parameter(request: Request) -> tuple[str, Identifier]:
    handle = request.query_params.get("handle", "")
    if not handle:
        raise InvalidRequest("handle is required", name="request.missing_parameter")
    return handle, parse_identifier(request.app.state.settings, handle)


@router.get("/identityv2/data/detail", summary="An identifier with its template labels (business face)")
async def detail(request: Request) -> Response:
    try:
        handle, ident = _handle_parameter(request)
        async with request.app.state.db.read_session() as session:
            actor = await business_actor(request, session) if "authorization" in request.headers else ANONYMOUS
            record = await repository.get(session, ident.key)
            if record is not None and record.deleted:
                raise HandleNotFound(f"{handle} was deleted (version {record.version}); its name is not reused",
                                     name="handle.deleted")
            record = await load(session, ident)
            values = await visible_values(session, actor, ident, record, public_only=False)
            binding = read_binding(record.record_values)
            names: dict[int, str] = {}
            if binding:
                compiled = await templates.compiled(session, *binding)
                names = {i: item.name for i, item in compiled.items.items()}
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok({
        "handle": handle,
        "templatePrefix": binding[0] if binding else None,
        "templateVersion": binding[1] if binding else None,
        "version": record.version,
        "updatedAt": record.updated_at.isoformat(),
        "value": [{**render(v), "name": names.get(v["index"])} for v in values],
        "links": trace_links(handle),
    })


def trace_links(handle: str) -> dict[str, str]:
    """Where a client finds the identifier's lifecycle and trace views."""
    quoted = quote(handle, safe="/")
    return {"lifecycle": f"/epcis/events?MATCH_anyEPC={quoted}", "upstream": f"/trace/upstream?handle={quoted}",
            "downstream": f"/trace/downstream?handle={quoted}", "history": f"/identityv2/data/history?handle={quoted}"}


@router.get("/identityv2/data/history", summary="Every version of an identifier: who changed which value when")
async def history(request: Request) -> Response:
    try:
        handle, ident = _handle_parameter(request)
        async with request.app.state.db.read_session() as session:
            actor = await business_actor(request, session)
            current = await repository.get(session, ident.key)
            if current is None:
                raise HandleNotFound(f"{handle} not found")
            if not await may_read_all(session, actor, ident, current):
                raise Forbidden(f"the history of {handle} is for its administrators", name="handle.history_forbidden")
            versions = await registry_history(session, ident.key)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok({"handle": handle, "versions": describe_changes(versions)})
