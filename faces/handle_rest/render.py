"""The Handle face's one error renderer: a ``responseCode`` body (Handle.Net v9 REST) with the domain error's stable
name, and the codes of DOMAIN.md "Handle REST (v9)" (IDIS codes for budgets)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Scope

from faces.handle_codes import HANDLE_CODES
from foundation.errors import DomainError
from foundation.http.face import Face
from foundation.http.responses import retry_after


def error_answer(error: DomainError, handle: str | None = None) -> tuple[int, bytes]:
    """(HTTP status, body) of ``error``; the raw hot path sends these bytes as they are."""
    code, status = HANDLE_CODES.get(error.kind, (2, 400))
    body: dict[str, Any] = {"responseCode": code}
    if handle is not None:
        body["handle"] = handle
    body["message"] = error.message
    body["error"] = error.name
    return status, orjson.dumps(body)


def render(error: DomainError, scope: Scope) -> Response:
    handle = scope.get("path_params", {}).get("handle")
    status, body = error_answer(error, handle if isinstance(handle, str) else None)
    return Response(body, status_code=status, media_type="application/json", headers=retry_after(error))


ERROR_BODY = {
    "type": "object",
    "required": ["responseCode", "message"],
    "properties": {
        "responseCode": {"type": "integer"},
        "handle": {"type": "string"},
        "message": {"type": "string"},
        "error": {"type": "string"},
    },
}

HANDLE = Face("handle", render, paths=("/api/", "/hrls/"), error_body=ERROR_BODY)
