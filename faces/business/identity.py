"""Business API identity: log in with a password, or answer a challenge with a key's signature; both give a bearer
token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from faces.actors import refuse_plain_http
from faces.business.render import BUSINESS, ok
from faces.dependencies import JsonPayload, NodeDatabase, NodeSettings
from foundation.http.requests import parse_model
from registry.accounts import service as accounts
from registry.authentication import keyauth
from registry.kernel.actor import Actor

router = APIRouter(tags=["business: identity"], route_class=BUSINESS.route_class)


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class ChallengeAnswer(BaseModel):
    handle: str = Field(min_length=3, max_length=300, description="the identity, index:handle")
    nonce: str = Field(min_length=1, max_length=64)
    signature: str = Field(min_length=1, max_length=2048, description="base64 signature of the nonce's bytes")
    alg: str | None = Field(default=None, max_length=16, description="SHA256 (default) or SM3 for SM2 keys")


class DigestCredentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(
        min_length=64, max_length=64, description="hex sha256(sha256(password) + the day as yyyy-MM-dd)"
    )


@router.post("/identity/token", summary="Log in: username and password give a bearer token valid 24 h")
async def login(request: Request, settings: NodeSettings, db: NodeDatabase, body: JsonPayload) -> Response:
    refuse_plain_http(request, settings)
    credentials = parse_model(Credentials, body)
    return await _login(request, settings, db, credentials.username, credentials.password, accounts.login)


@router.post(
    "/identity/token/v1",
    summary="Log in (SNMS digest): password = hex sha256(hex sha256(password) + yyyy-MM-dd); a bearer token valid 24 h",
)
async def login_digest(request: Request, settings: NodeSettings, db: NodeDatabase, body: JsonPayload) -> Response:
    refuse_plain_http(request, settings)
    credentials = parse_model(DigestCredentials, body)
    return await _login(request, settings, db, credentials.username, credentials.password, accounts.login_digest)


async def _login(
    request: Request,
    settings: NodeSettings,
    db: NodeDatabase,
    username: str,
    secret: str,
    check: Callable[..., Awaitable[accounts.LoginOutcome]],
) -> Response:
    request.state.claimed = f"user:{username}"
    async with db.unit_of_work() as session:
        outcome = await check(
            session,
            username,
            secret,
            settings.token_ttl_seconds,
            max_failures=settings.login_max_failures,
            lockout_seconds=settings.login_lockout_seconds,
        )
    if outcome.refusal is not None:  # raised after the commit: the failure count must stay
        raise outcome.refusal
    request.state.actor = Actor(name=f"user:{username}")  # for the audit log: the login succeeded
    return ok({"token": outcome.token, "tokenType": "Bearer", "expiresIn": outcome.ttl})


@router.get(
    "/identity/challenge",
    summary="A nonce for an identity to sign (index:handle); its signature gives a short-lived token",
)
async def challenge(request: Request, settings: NodeSettings, db: NodeDatabase) -> Response:
    refuse_plain_http(request, settings)
    identity = request.query_params.get("handle", "")
    async with db.unit_of_work() as session:
        nonce, ttl = await keyauth.open_challenge(session, identity, settings.key_sessions_max_open)
    return ok({"handle": identity, "nonce": nonce, "expiresIn": ttl})


@router.post("/identity/verify-response", summary="Answer a challenge with the signature of its nonce: a bearer token")
async def verify_response(request: Request, settings: NodeSettings, db: NodeDatabase, body: JsonPayload) -> Response:
    refuse_plain_http(request, settings)
    answer = parse_model(ChallengeAnswer, body)
    request.state.claimed = answer.handle
    async with db.unit_of_work() as session:  # committed before the answer is checked: one guess per challenge
        await keyauth.consume_challenge(session, answer.handle, answer.nonce)
    ttl = settings.key_token_ttl_seconds
    async with db.unit_of_work() as session:
        token, identity = await keyauth.answer_challenge(
            session, answer.handle, answer.nonce, answer.signature, answer.alg, ttl
        )
    request.state.actor = Actor(name=identity)  # for the audit log
    return ok({"token": token, "tokenType": "Bearer", "expiresIn": ttl, "handle": identity})
