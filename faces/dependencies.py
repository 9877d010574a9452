"""Request plumbing of the faces as FastAPI dependencies: each kind of actor, the resolver, the verifier of other
nodes' signed requests, and the identifier a query names; plus the foundation's (settings, sessions, body).

Actors are authenticated in sessions of their own, before the request's unit of work begins (``faces.actors``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request

from faces import actors
from foundation.crypto.keys import load_signing_key
from foundation.crypto.trust_keys import TrustKey, load_trust_key
from foundation.errors import MissingParameter, NoSigningKey
from foundation.federation import NodeRequestVerifier
from foundation.http.dependencies import (
    JsonPayload,
    NodeDatabase,
    NodeSettings,
    ReadSession,
    RequestBudgets,
    UnitOfWork,
)
from registry.kernel.actor import Actor
from registry.kernel.identifiers import parse_identifier
from registry.kernel.syntax import Identifier
from registry.trust.errors import NoTrustKey
from resolver.service import Resolver

__all__ = [
    "Auth",
    "BusinessActor",
    "DetailReader",
    "HandleActor",
    "HandleWriter",
    "JsonPayload",
    "NodeDatabase",
    "NodeRequests",
    "NodeResolver",
    "NodeSettings",
    "NodeSigningKey",
    "NodeTrustKey",
    "OptionalBusinessActor",
    "QueriedIdentifier",
    "ReadSession",
    "RequestBudgets",
    "UnitOfWork",
]


def _resolver(request: Request) -> Resolver:
    return request.app.state.resolver


def _node_requests(request: Request) -> NodeRequestVerifier:
    return request.app.state.node_requests


NodeResolver = Annotated[Resolver, Depends(_resolver)]
NodeRequests = Annotated[NodeRequestVerifier, Depends(_node_requests)]


def _signing_key(request: Request) -> Callable[[], Ed25519PrivateKey]:
    state = request.app.state

    def load() -> Ed25519PrivateKey:
        key: Ed25519PrivateKey | None = getattr(state, "signing_key", None)
        if key is None:
            try:
                key = state.signing_key = load_signing_key(state.settings.node_key_file)
            except OSError:
                raise NoSigningKey() from None
        return key

    return load


NodeSigningKey = Annotated[Callable[[], Ed25519PrivateKey], Depends(_signing_key)]


def _trust_key(request: Request) -> Callable[[], TrustKey]:
    state = request.app.state

    def load() -> TrustKey:
        key: TrustKey | None = getattr(state, "trust_key", None)
        if key is None:
            try:
                key = state.trust_key = load_trust_key(state.settings.trust_key_file)
            except (OSError, ValueError):
                raise NoTrustKey(state.settings.trust_key_file) from None
        return key

    return load


NodeTrustKey = Annotated[Callable[[], TrustKey], Depends(_trust_key)]
"""The node's trust key (Handle certificates and signatures, ADR 0015), read once per application when needed."""
"""The node's Ed25519 signing key (``secnode init`` makes it), read once per application and only when a request
needs it: a node without a key serves everything but signatures."""


def _context(request: Request, settings: NodeSettings, db: NodeDatabase, budgets: RequestBudgets) -> actors.AuthContext:
    return actors.AuthContext(request, settings, db, budgets)


Auth = Annotated[actors.AuthContext, Depends(_context)]


async def _business_actor(auth: Auth) -> Actor:
    return await actors.business_actor(auth)


async def _optional_business_actor(auth: Auth) -> Actor:
    return await actors.business_actor(auth) if "authorization" in auth.request.headers else actors.ANONYMOUS


async def _detail_reader(auth: Auth) -> Actor:
    if auth.settings.snms_detail_requires_token:
        return await actors.business_actor(auth)
    return await _optional_business_actor(auth)


async def _handle_actor(auth: Auth) -> Actor:
    return await actors.handle_actor(auth)


async def _handle_writer(auth: Auth) -> Actor:
    return await actors.handle_writer(auth)


BusinessActor = Annotated[Actor, Depends(_business_actor)]
"""The business API's caller (``Authorization: Bearer``): required."""
OptionalBusinessActor = Annotated[Actor, Depends(_optional_business_actor)]
"""The business API's caller when it sent credentials, else the anonymous reader."""
DetailReader = Annotated[Actor, Depends(_detail_reader)]
"""The reader of ``/identityv2/data/detail``: a bearer token is required when ``snms_detail_requires_token`` says
so, else optional."""
HandleActor = Annotated[Actor, Depends(_handle_actor)]
"""The Handle API's caller (Basic, Handle session or Bearer), or the anonymous reader."""
HandleWriter = Annotated[Actor, Depends(_handle_writer)]
"""The Handle API's caller, required to be authenticated."""


def _queried_identifier(request: Request, settings: NodeSettings) -> Identifier:
    handle = request.query_params.get("handle", "")
    if not handle:
        raise MissingParameter("handle is required")
    return parse_identifier(settings, handle)


QueriedIdentifier = Annotated[Identifier, Depends(_queried_identifier)]
"""The identifier named by the ``handle`` query parameter (required)."""
