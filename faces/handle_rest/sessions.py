"""Handle.Net v9 sessions (``/api/sessions``): public-key authentication, no long-lived password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.actors import refuse_plain_http, session_actor
from faces.dependencies import Auth, NodeSettings, ReadSession, UnitOfWork
from faces.handle_rest.render import HANDLE
from foundation.http.responses import JSONBody
from registry.authentication import keyauth
from registry.authentication.errors import SessionUnknown
from registry.authentication.handle_auth import parse_handle_authorization

router = APIRouter(tags=["Handle REST: sessions"], route_class=HANDLE.route_class)


def _session_id(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    session_id = parse_handle_authorization(credentials).get("sessionId") if scheme.lower() == "handle" else None
    if not session_id:
        raise SessionUnknown('send Authorization: Handle sessionId="…" (POST /api/sessions opens one)')
    return session_id


def _state(session_id: str, nonce: str, identity: str | None) -> dict[str, object]:
    body: dict[str, object] = {"sessionId": session_id, "nonce": nonce, "authenticated": identity is not None}
    if identity is not None:
        body["id"] = identity
    return body


@router.post(
    "/api/sessions", status_code=201, summary="Open a session: its id and the server nonce to sign (Handle.Net v9)"
)
async def open_session(request: Request, settings: NodeSettings, session: UnitOfWork) -> Response:
    refuse_plain_http(request, settings)
    session_id, nonce = await keyauth.open_session(
        session, settings.session_ttl_seconds, settings.key_sessions_max_open
    )
    return JSONBody(_state(session_id, nonce, None), status_code=201)


@router.get("/api/sessions/this", summary="The session's state")
async def session_state(request: Request, session: ReadSession) -> Response:
    session_id = _session_id(request)
    state = await keyauth.session_state(session, session_id)
    return JSONBody(_state(session_id, state.nonce, state.identity))


@router.put(
    "/api/sessions/this",
    summary="Authenticate the session: Authorization: Handle sessionId, id, type=HS_PUBKEY, cnonce, signature",
)
async def authenticate(request: Request, auth: Auth, session: UnitOfWork) -> Response:
    session_id = _session_id(request)
    actor = await session_actor(auth, request.headers["authorization"].partition(" ")[2])
    state = await keyauth.session_state(session, session_id)
    return JSONBody(_state(session_id, state.nonce, next(iter(actor.identities))))


@router.delete("/api/sessions/this", summary="End the session")
async def end_session(request: Request, session: UnitOfWork) -> Response:
    session_id = _session_id(request)
    if not await keyauth.end_session(session, session_id):
        raise SessionUnknown("the session is unknown or expired")
    return JSONBody({"sessionId": session_id, "authenticated": False})
