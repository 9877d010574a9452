"""Who is calling, for every face: business bearer tokens (logins, API keys, signed challenges), Handle Basic auth
and Handle public-key sessions. Authentication reads in sessions of its own, before the request's unit of work
begins; ``faces.dependencies`` offers each kind of actor as a dependency."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from starlette.requests import Request

from foundation.config import Settings
from foundation.db import Database
from foundation.http.budgets import Budgets
from foundation.http.requests import client_address, credentials_allowed
from foundation.text import is_decimal
from registry.authentication import keyauth, service
from registry.authentication.errors import (
    AuthenticationRequired,
    BadBasicCredentials,
    InsecureTransport,
    MissingToken,
    SessionUnauthenticated,
    SessionUnknown,
    UnsupportedAuthorizationType,
    UnsupportedScheme,
)
from registry.authentication.handle_auth import parse_handle_authorization
from registry.kernel.actor import ANONYMOUS, Actor
from registry.kernel.errors import ReadOnlyActor

__all__ = [
    "ANONYMOUS",
    "AuthContext",
    "business_actor",
    "handle_actor",
    "handle_writer",
    "refuse_plain_http",
    "session_actor",
]


@dataclass(frozen=True)
class AuthContext:
    request: Request
    settings: Settings
    db: Database
    budgets: Budgets


def refuse_plain_http(request: Request, settings: Settings) -> None:
    if not credentials_allowed(request, settings):
        raise InsecureTransport()


async def business_actor(auth: AuthContext) -> Actor:
    """The business API's caller, from ``Authorization: Bearer <token>``."""
    request = auth.request
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken()
    request.state.claimed = "bearer token"
    refuse_plain_http(request, auth.settings)
    async with auth.db.primary_read_session() as session:
        actor = await service.actor_for_token(session, token.strip(), auth.settings.node_prefix)
    return _authenticated(auth, actor)


async def handle_actor(auth: AuthContext) -> Actor:
    """The Handle API's caller, from Basic auth ``index:handle`` + secret, a Handle session or a business bearer
    token; the anonymous reader without credentials."""
    request = auth.request
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return await business_actor(auth)
    if scheme.lower() == "handle":
        return await session_actor(auth, credentials)
    if scheme.lower() != "basic":
        raise UnsupportedScheme(scheme)
    refuse_plain_http(request, auth.settings)
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadBasicCredentials() from None
    username, secret = _split_basic(decoded)
    request.state.claimed = username
    settings = auth.settings
    identity = await service.check_handle_secret(
        auth.db,
        username,
        secret,
        source=client_address(request.scope, settings),
        max_failures=settings.login_max_failures,
        lockout_seconds=settings.login_lockout_seconds,
    )
    return await _identity_actor(auth, identity)


async def handle_writer(auth: AuthContext) -> Actor:
    """The Handle API's caller, who must have authenticated: changing identifiers is never anonymous."""
    actor = await handle_actor(auth)
    if not actor.authenticated:
        raise AuthenticationRequired()
    return actor


async def _identity_actor(auth: AuthContext, identity: str) -> Actor:
    async with auth.db.primary_read_session() as session:
        actor = await service.actor_for_identity(session, identity, auth.settings.node_prefix)
    return _authenticated(auth, actor)


async def session_actor(auth: AuthContext, credentials: str) -> Actor:
    """``Authorization: Handle sessionId=…`` of an authenticated session; with ``cnonce`` and ``signature`` the
    session is authenticated by this very request."""
    request = auth.request
    refuse_plain_http(request, auth.settings)
    fields = parse_handle_authorization(credentials)
    session_id = fields.get("sessionId", "")
    request.state.claimed = fields.get("id") or "handle session"
    if not session_id:
        raise SessionUnknown("Handle authorization needs a sessionId: POST /api/sessions first")
    if "signature" in fields:
        if fields.get("type", "HS_PUBKEY") != "HS_PUBKEY":
            raise UnsupportedAuthorizationType()
        # committed on its own, whatever the request: a used client nonce stays used even on a GET (whose session
        # never commits, and may read a replica)
        async with auth.db.unit_of_work() as own:
            state = await keyauth.authenticate_session(
                own, session_id, fields.get("id", ""), fields.get("cnonce", ""), fields["signature"], fields.get("alg")
            )
            identity = state.identity
    else:
        async with auth.db.primary_read_session() as session:
            identity = await keyauth.identity_of_session(session, session_id)
    if identity is None:
        raise SessionUnauthenticated()
    return await _identity_actor(auth, identity)


_SELF_SERVICE = frozenset({"/identity/password"})  # what even a read-only user may change: its own password


def _authenticated(auth: AuthContext, actor: Actor) -> Actor:
    """Named for the audit log, held to its role (an auditor writes nothing), and charged against the identity's
    daily requests (the node administrator's are not counted)."""
    request = auth.request
    request.state.actor = actor
    if actor.read_only and request.method not in ("GET", "HEAD", "OPTIONS") and request.url.path not in _SELF_SERVICE:
        raise ReadOnlyActor(actor.name)
    if not actor.is_node_admin:
        auth.budgets.charge_identity(actor.name)
    return actor


def _split_basic(decoded: str) -> tuple[str, str]:
    """``300:88.118.1042/admin:secret`` or ``300%3A88.118.1042%2Fadmin:secret`` -> (username, secret)."""
    index, sep, rest = decoded.partition(":")
    if is_decimal(index) and sep:  # raw "index:handle:secret": the handle has no ':' in strict mode
        handle, _, secret = rest.partition(":")
        return f"{index}:{handle}", secret
    username, _, secret = decoded.partition(":")
    return username, secret
