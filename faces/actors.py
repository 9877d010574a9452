"""Login, password change and the request-level authentication of both faces: business bearer tokens (logins, API
keys, signed challenges), Handle Basic auth and Handle public-key sessions."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.errors import Forbidden, Unauthenticated
from foundation.http.faces import credentials_allowed, is_decimal, parse_model, read_json, snms_ok
from registry.accounts import service as accounts
from registry.authentication import keyauth, service
from registry.authentication.handle_auth import parse_handle_authorization
from registry.kernel.actor import ANONYMOUS, Actor

router = APIRouter(tags=["business: identity"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def refuse_plain_http(request: Request) -> None:
    if not credentials_allowed(request, settings_of(request)):
        raise Unauthenticated("credentials are accepted only over HTTPS (or from loopback)",
                              name="auth.insecure_transport")


async def business_actor(request: Request, session: AsyncSession) -> Actor:
    """The business API's caller, from ``Authorization: Bearer <token>``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("log in first: POST /identity/token, then send Authorization: Bearer <token>",
                              name="auth.missing_token")
    request.state.claimed = "bearer token"
    refuse_plain_http(request)
    return _authenticated(request, await service.actor_for_token(session, token.strip(),
                                                                  settings_of(request).node_prefix))


async def handle_actor(request: Request, session: AsyncSession) -> Actor:
    """The Handle API's caller, from Basic auth ``index:handle`` + secret, or a business bearer token."""
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return await business_actor(request, session)
    if scheme.lower() == "handle":
        return await session_actor(request, session, credentials)
    if scheme.lower() != "basic":
        raise Unauthenticated(f"unsupported authorization scheme {scheme!r}", name="auth.unsupported_scheme")
    refuse_plain_http(request)
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthenticated("malformed Basic credentials", name="auth.bad_basic") from None
    username, secret = _split_basic(decoded)
    request.state.claimed = username
    settings = settings_of(request)
    identity = await service.check_handle_secret(request.app.state.db, username, secret,
                                                 max_failures=settings.login_max_failures,
                                                 lockout_seconds=settings.login_lockout_seconds)
    return _authenticated(request, await service.actor_for_identity(session, identity, settings.node_prefix))


async def session_actor(request: Request, session: AsyncSession, credentials: str) -> Actor:
    """``Authorization: Handle sessionId=…`` of an authenticated session; with ``cnonce`` and ``signature`` the
    session is authenticated by this very request."""
    refuse_plain_http(request)
    fields = parse_handle_authorization(credentials)
    session_id = fields.get("sessionId", "")
    request.state.claimed = fields.get("id") or "handle session"
    if not session_id:
        raise Unauthenticated("Handle authorization needs a sessionId: POST /api/sessions first",
                              name="auth.session_unknown")
    if "signature" in fields:
        if fields.get("type", "HS_PUBKEY") != "HS_PUBKEY":
            raise Unauthenticated("only type=\"HS_PUBKEY\" signatures are accepted; secrets go by Basic auth",
                                  name="auth.unsupported_type")
        # committed on its own, whatever the request: a used client nonce stays used even on a GET (whose session
        # never commits, and may read a replica)
        async with request.app.state.db.unit_of_work() as own:
            state = await keyauth.authenticate_session(own, session_id, fields.get("id", ""),
                                                       fields.get("cnonce", ""), fields["signature"],
                                                       fields.get("alg"))
            identity = state.identity
    else:
        identity = await keyauth.identity_of_session(session, session_id)
    if identity is None:
        raise Unauthenticated("the session is not authenticated yet: sign its nonce (PUT /api/sessions/this)",
                              name="auth.session_unauthenticated")
    return _authenticated(request, await service.actor_for_identity(session, identity,
                                                                   settings_of(request).node_prefix))


_SELF_SERVICE = frozenset({"/identity/password"})  # what even a read-only user may change: its own password


def _authenticated(request: Request, actor: Actor) -> Actor:
    """Named for the audit log, held to its role (an auditor writes nothing), and charged against the identity's
    daily requests (the node administrator's are not counted)."""
    request.state.actor = actor
    if actor.read_only and request.method not in ("GET", "HEAD", "OPTIONS") \
            and request.url.path not in _SELF_SERVICE:
        raise Forbidden(f"{actor.name} is an auditor: it reads and writes nothing", name="auth.read_only")
    if not actor.is_node_admin:
        request.app.state.budgets.charge_identity(actor.name)
    return actor


def _split_basic(decoded: str) -> tuple[str, str]:
    """``300:88.118.1042/admin:secret`` or ``300%3A88.118.1042%2Fadmin:secret`` -> (username, secret)."""
    index, sep, rest = decoded.partition(":")
    if is_decimal(index) and sep:  # raw "index:handle:secret": the handle has no ':' in strict mode
        handle, _, secret = rest.partition(":")
        return f"{index}:{handle}", secret
    username, _, secret = decoded.partition(":")
    return username, secret


@router.post("/identity/token", summary="Log in: username and password give a bearer token valid 24 h")
async def login(request: Request):
    refuse_plain_http(request)
    credentials = parse_model(Credentials, await read_json(request))
    request.state.claimed = f"user:{credentials.username}"
    settings = settings_of(request)
    async with request.app.state.db.unit_of_work() as session:
        outcome = await accounts.login(session, credentials.username, credentials.password,
                                      settings.token_ttl_seconds, max_failures=settings.login_max_failures,
                                      lockout_seconds=settings.login_lockout_seconds)
    if outcome.refusal is not None:  # raised after the commit: the failure count must stay
        raise outcome.refusal
    request.state.actor = Actor(name=f"user:{credentials.username}")  # for the audit log: the login succeeded
    return snms_ok({"token": outcome.token, "tokenType": "Bearer", "expiresIn": outcome.ttl})
