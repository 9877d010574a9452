"""The business face (SNMS style): the ``{status, message, data}`` envelope and its one error renderer.
``status``: 1 ok, -1 not logged in, -2 business failure, -3 no permission, -4 internal (the SNMS v5 developer
documentation's appendix; a refused username and password is -2, as its login examples show)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from foundation.errors import DomainError, Kind
from foundation.http.face import Face
from foundation.http.responses import JSONBody, retry_after

# kind -> (SNMS status, HTTP status); any other kind is a business failure (-2) answered 400.
SNMS_CODES: dict[Kind, tuple[int, int]] = {
    Kind.UNAUTHENTICATED: (-1, 401),
    Kind.CREDENTIALS_REFUSED: (-2, 401),  # SNMS: "用户名/密码错误！" is -2
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
    Kind.INTERNAL: (-4, 500),
}


def snms_status(error: DomainError) -> int:
    """The SNMS status of ``error``: also the per-item ``code`` of batch results."""
    return SNMS_CODES.get(error.kind, (-2, 400))[0]


def render(error: DomainError, scope: Scope) -> Response:
    status, http = SNMS_CODES.get(error.kind, (-2, 400))
    return JSONBody(
        {"status": status, "message": error.message, "error": error.name, "data": None},
        status_code=http,
        headers=retry_after(error),
    )


def ok(data: Any = None, message: str = "success", status_code: int = 200) -> JSONBody:
    return JSONBody({"status": 1, "message": message, "data": data}, status_code=status_code)


ERROR_BODY = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "error": {"type": "string"},
        "data": {"type": "null"},
    },
}

BUSINESS = Face("business", render, paths=("/identity", "/snms/"), error_body=ERROR_BODY)
