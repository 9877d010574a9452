"""Login and the request-level authentication of both faces."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from node.config import Settings
from node.errors import Unauthenticated
from node.faces import credentials_allowed, parse_model, read_json, snms_ok
from registry.accounts import service
from registry.accounts.actor import ANONYMOUS, Actor

router = APIRouter(tags=["business: identity"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _refuse_plain_http(request: Request) -> None:
    if not credentials_allowed(request, _settings(request)):
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
    _refuse_plain_http(request)
    return _authenticated(request, await service.actor_for_token(session, token.strip(),
                                                                  _settings(request).node_prefix))


async def handle_actor(request: Request, session: AsyncSession) -> Actor:
    """The Handle API's caller, from Basic auth ``index:handle`` + secret, or a business bearer token."""
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return await business_actor(request, session)
    if scheme.lower() != "basic":
        raise Unauthenticated(f"unsupported authorization scheme {scheme!r}", name="auth.unsupported_scheme")
    _refuse_plain_http(request)
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthenticated("malformed Basic credentials", name="auth.bad_basic") from None
    username, secret = _split_basic(decoded)
    request.state.claimed = username
    return _authenticated(request, await service.actor_for_handle_credentials(session, username, secret,
                                                                               _settings(request).node_prefix))


def _authenticated(request: Request, actor: Actor) -> Actor:
    """Named for the audit log, and charged against the identity's daily requests (the node administrator's are
    not counted)."""
    request.state.actor = actor
    if not actor.is_node_admin:
        request.app.state.budgets.charge_identity(actor.name)
    return actor


def _split_basic(decoded: str) -> tuple[str, str]:
    """``300:88.118.1042/admin:secret`` or ``300%3A88.118.1042%2Fadmin:secret`` -> (username, secret)."""
    index, sep, rest = decoded.partition(":")
    if index.isdigit() and sep:  # raw "index:handle:secret": the handle has no ':' in strict mode
        handle, _, secret = rest.partition(":")
        return f"{index}:{handle}", secret
    username, _, secret = decoded.partition(":")
    return username, secret


@router.post("/identity/token", summary="Log in: username and password give a bearer token valid 24 h")
async def login(request: Request):
    _refuse_plain_http(request)
    credentials = parse_model(Credentials, await read_json(request))
    request.state.claimed = f"user:{credentials.username}"
    async with request.app.state.db.unit_of_work() as session:
        token, ttl = await service.login(session, credentials.username, credentials.password,
                                         _settings(request).token_ttl_seconds)
    request.state.actor = Actor(name=f"user:{credentials.username}")  # for the audit log: the login succeeded
    return snms_ok({"token": token, "tokenType": "Bearer", "expiresIn": ttl})
