"""How each face renders results and domain errors: Handle ``responseCode`` bodies and the SNMS envelope."""

from __future__ import annotations

import functools
import ipaddress
import math
from typing import Annotated, Any

import orjson
from fastapi import Path
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from foundation.config import Settings
from foundation.errors import DomainError, EmptyBody, InvalidFields, Kind, MalformedJson

DATABASE_INT_MAX = 2**63 - 1  # a row id beyond this cannot exist: refuse it as a client mistake, not a 500
RowId = Annotated[int, Path(ge=1, le=DATABASE_INT_MAX)]


def is_true(text: str) -> bool:
    """A query flag that is on: ``?flag``, ``=true``, ``=1`` or ``=yes`` (any case)."""
    return text.lower() in ("true", "1", "yes", "")


def is_decimal(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts "²" and "①", which ``int`` then refuses."""
    return text.isascii() and text.isdigit()


def page_window(page: int, page_size: int, *, largest: int = 1000) -> tuple[int, int]:
    """(limit, offset) of a listing page: the size clamped to 1..``largest``, the page to what a database counts."""
    size = max(1, min(page_size, largest))
    return size, max(0, min(page, DATABASE_INT_MAX // largest)) * size

# kind -> (Handle responseCode, HTTP status). Values: DOMAIN.md "Handle REST (v9)".
HANDLE_CODES: dict[Kind, tuple[int, int]] = {
    Kind.INVALID_HANDLE: (102, 400),
    Kind.INVALID_VALUE: (202, 400),
    Kind.INVALID_REQUEST: (2, 400),
    Kind.NOT_FOUND: (100, 404),
    Kind.VALUES_NOT_FOUND: (200, 400),
    Kind.ALREADY_EXISTS: (101, 409),
    Kind.VALUE_EXISTS: (201, 409),
    Kind.NOT_RESPONSIBLE: (301, 400),
    Kind.UNAUTHENTICATED: (402, 401),
    Kind.FORBIDDEN: (400, 403),
    Kind.CONFLICT: (2, 409),
    Kind.TOO_LARGE: (2, 413),
    Kind.UNAVAILABLE: (2, 503),
    Kind.RATE_LIMITED: (2, 429),
    Kind.DAILY_LIMIT: (603, 429),  # IDIS codes (DOMAIN.md)
    Kind.REGISTRATION_LIMIT: (604, 429),
}

# kind -> (SNMS status, HTTP status): 1 ok, -1 not logged in, -2 business failure, -3 no permission, -4 internal.
SNMS_CODES: dict[Kind, tuple[int, int]] = {
    Kind.UNAUTHENTICATED: (-1, 401),
    Kind.FORBIDDEN: (-3, 403),
    Kind.NOT_FOUND: (-2, 404),
    Kind.ALREADY_EXISTS: (-2, 409),
    Kind.VALUE_EXISTS: (-2, 409),
    Kind.CONFLICT: (-2, 409),
    Kind.TOO_LARGE: (-2, 413),
    Kind.UNAVAILABLE: (-4, 503),
    Kind.RATE_LIMITED: (-2, 429),
    Kind.DAILY_LIMIT: (-2, 429),
    Kind.REGISTRATION_LIMIT: (-2, 429),
}


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def handle_error(exc: DomainError, handle: str | None = None) -> JSONBody:
    code, status = HANDLE_CODES.get(exc.kind, (2, 400))
    body: dict[str, Any] = {"responseCode": code}
    if handle is not None:
        body["handle"] = handle
    body["message"] = exc.message
    body["error"] = exc.name
    return JSONBody(body, status_code=status, headers=_headers_of(exc))


def _headers_of(exc: DomainError) -> dict[str, str] | None:
    retry_after = getattr(exc, "retry_after", None)  # a used-up budget says when to come back
    return {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else None


def snms_status(exc: DomainError) -> int:
    return SNMS_CODES.get(exc.kind, (-2, 400))[0]


def snms_error(exc: DomainError) -> JSONBody:
    status, http = SNMS_CODES.get(exc.kind, (-2, 400))
    return JSONBody({"status": status, "message": exc.message, "error": exc.name, "data": None}, status_code=http,
                    headers=_headers_of(exc))


def snms_ok(data: Any = None, message: str = "success", status_code: int = 200) -> JSONBody:
    return JSONBody({"status": 1, "message": message, "data": data}, status_code=status_code)


def is_handle_face(path: str) -> bool:
    return path.startswith("/api/")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@functools.lru_cache(maxsize=16)
def _proxy_networks(entries: tuple[str, ...]) -> tuple:
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


# EPCIS 2.0 answers errors as RFC 7807 problems with its exception names.
EPCIS_EXCEPTIONS: dict[Kind, tuple[str, int]] = {
    Kind.UNAUTHENTICATED: ("epcisException:SecurityException", 401),
    Kind.FORBIDDEN: ("epcisException:SecurityException", 403),
    Kind.NOT_FOUND: ("epcisException:NoSuchResourceException", 404),
    Kind.ALREADY_EXISTS: ("epcisException:ResourceAlreadyExistsException", 409),
    Kind.TOO_LARGE: ("epcisException:CaptureLimitExceededException", 413),
    Kind.UNAVAILABLE: ("epcisException:ImplementationException", 503),
}


def epcis_problem(exc: DomainError, **extra: Any) -> JSONBody:
    kind, status = EPCIS_EXCEPTIONS.get(exc.kind, ("epcisException:ValidationException", 400))
    return JSONBody({"type": kind, "title": exc.message, "status": status, "error": exc.name, **extra},
                    status_code=status)
