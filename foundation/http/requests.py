"""Reading requests the same way on every face: JSON bodies, validated models, paging, the client's address and
whether credentials may travel on this connection."""

from __future__ import annotations

import functools
import ipaddress
from typing import Annotated, Any

import orjson
from fastapi import Path
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Scope

from foundation.config import Settings
from foundation.errors import EmptyBody, InvalidFields, MalformedJson

DATABASE_INT_MAX = 2**63 - 1  # a row id beyond this cannot exist: refuse it as a client mistake, not a 500
RowId = Annotated[int, Path(ge=1, le=DATABASE_INT_MAX)]


def page_window(page: int, page_size: int, *, largest: int = 1000) -> tuple[int, int]:
    """(limit, offset) of a listing page: the size clamped to 1..``largest``, the page to what a database counts."""
    size = max(1, min(page_size, largest))
    return size, max(0, min(page, DATABASE_INT_MAX // largest)) * size


async def read_json(request: Request) -> Any:
    """The request body as JSON, or an ``InvalidRequest`` naming the problem (never a 500)."""
    body = await request.body()
    if not body:
        raise EmptyBody()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(exc) from None


def parse_model(model: Any, raw: Any) -> Any:
    """Validate ``raw`` with a pydantic model; errors become one readable ``InvalidRequest``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
        raise InvalidFields(problems) from None


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@functools.lru_cache(maxsize=16)
def _proxy_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(client: str | None, settings: Settings) -> bool:
    """``client`` is one of ``SECNODE_TRUSTED_PROXIES``: an address or a CIDR range (``10.42.0.0/16``)."""
    if not client or not settings.trusted_proxies:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in _proxy_networks(tuple(settings.trusted_proxies)))


def client_address(scope: Scope, settings: Settings) -> str:
    """The client's address; behind a trusted proxy, the last address it added to X-Forwarded-For."""
    client = scope["client"][0] if scope.get("client") else "unknown"
    if is_trusted_proxy(client, settings):
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                return value.decode("latin-1").rsplit(",", 1)[-1].strip() or client
    return client


def credentials_allowed(request: Request, settings: Settings) -> bool:
    """Credentials travel only over TLS: direct TLS, a trusted TLS-terminating proxy, or loopback (the embedded
    default). ``SECNODE_ALLOW_INSECURE_CREDENTIALS=true`` lifts the rule (test rigs only)."""
    if settings.allow_insecure_credentials or request.url.scheme == "https":
        return True
    client = request.client.host if request.client else None
    if is_trusted_proxy(client, settings) and request.headers.get("x-forwarded-proto", "").lower() == "https":
        return True
    return _is_loopback(client)
