"""Handle.Net v9 sessions (``/api/sessions``) and the business face's challenge-response tokens
(``/identity/challenge``, ``/identity/verify-response``): public-key authentication, no long-lived password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from faces.actors import refuse_plain_http, session_actor, settings_of
from foundation.errors import Unauthenticated
from foundation.http.faces import JSONBody, parse_model, read_json, snms_ok
from registry.authentication import keyauth
from registry.authentication.handle_auth import parse_handle_authorization
from registry.kernel.actor import Actor

router = APIRouter()


def _session_id(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    session_id = parse_handle_authorization(credentials).get("sessionId") if scheme.lower() == "handle" else None
    if not session_id:
        raise Unauthenticated('send Authorization: Handle sessionId="…" (POST /api/sessions opens one)',
                              name="auth.session_unknown")
    return session_id


def _state(session_id: str, nonce: str, identity: str | None) -> dict:
    body = {"sessionId": session_id, "nonce": nonce, "authenticated": identity is not None}
    if identity is not None:
        body["id"] = identity
    return body


@router.post("/api/sessions", tags=["Handle REST: sessions"],
             summary="Open a session: its id and the server nonce to sign (Handle.Net v9)")
async def open_session(request: Request) -> JSONBody:
    refuse_plain_http(request)
    async with request.app.state.db.unit_of_work() as session:
        settings = settings_of(request)
        session_id, nonce = await keyauth.open_session(session, settings.session_ttl_seconds,
                                                       settings.key_sessions_max_open)
    return JSONBody(_state(session_id, nonce, None), status_code=201)


@router.get("/api/sessions/this", tags=["Handle REST: sessions"], summary="The session's state")
async def session_state(request: Request) -> JSONBody:
    session_id = _session_id(request)
    async with request.app.state.db.read_session() as session:
        state = await keyauth.session_state(session, session_id)
    return JSONBody(_state(session_id, state.nonce, state.identity))


@router.put("/api/sessions/this", tags=["Handle REST: sessions"],
            summary="Authenticate the session: Authorization: Handle sessionId, id, type=HS_PUBKEY, cnonce, signature")
async def authenticate(request: Request) -> JSONBody:
    session_id = _session_id(request)
    async with request.app.state.db.unit_of_work() as session:
        actor = await session_actor(request, session, request.headers["authorization"].partition(" ")[2])
        state = await keyauth.session_state(session, session_id)
    return JSONBody(_state(session_id, state.nonce, next(iter(actor.identities))))


@router.delete("/api/sessions/this", tags=["Handle REST: sessions"], summary="End the session")
async def end_session(request: Request) -> JSONBody:
    session_id = _session_id(request)
    async with request.app.state.db.unit_of_work() as session:
        ended = await keyauth.end_session(session, session_id)
    if not ended:
        raise Unauthenticated("the session is unknown or expired", name="auth.session_unknown")
    return JSONBody({"sessionId": session_id, "authenticated": False})


class ChallengeAnswer(BaseModel):
    handle: str = Field(min_length=3, max_length=300, description="the identity, index:handle")
    nonce: str = Field(min_length=1, max_length=64)
    signature: str = Field(min_length=1, max_length=2048, description="base64 signature of the nonce's bytes")
    alg: str | None = Field(default=None, max_length=16, description="SHA256 (default) or SM3 for SM2 keys")


@router.get("/identity/challenge", tags=["business: identity"],
            summary="A nonce for an identity to sign (index:handle); its signature gives a short-lived token")
async def challenge(request: Request) -> JSONBody:
    refuse_plain_http(request)
    identity = request.query_params.get("handle", "")
    async with request.app.state.db.unit_of_work() as session:
        nonce, ttl = await keyauth.open_challenge(session, identity, settings_of(request).key_sessions_max_open)
    return snms_ok({"handle": identity, "nonce": nonce, "expiresIn": ttl})


@router.post("/identity/verify-response", tags=["business: identity"],
             summary="Answer a challenge with the signature of its nonce: a bearer token")
async def verify_response(request: Request) -> JSONBody:
    refuse_plain_http(request)
    answer = parse_model(ChallengeAnswer, await read_json(request))
    request.state.claimed = answer.handle
    db = request.app.state.db
    async with db.unit_of_work() as session:  # committed before the answer is checked: one guess per challenge
        await keyauth.consume_challenge(session, answer.handle, answer.nonce)
    ttl = settings_of(request).key_token_ttl_seconds
    async with db.unit_of_work() as session:
        token, identity = await keyauth.answer_challenge(session, answer.handle, answer.nonce, answer.signature,
                                                         answer.alg, ttl)
    request.state.actor = Actor(name=identity)  # for the audit log
    return snms_ok({"token": token, "tokenType": "Bearer", "expiresIn": ttl, "handle": identity})
