"""The GS1 resolver face's one error renderer: RFC 7807 problem details, the status of the error's kind (a bad key
or URI 400, an unmapped key 404)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from foundation.errors import DomainError
from foundation.gs1.dictionary import dictionary
from foundation.http.face import Face
from foundation.http.responses import JSONBody, retry_after

PROBLEM_JSON = "application/problem+json"
PRIMARY_KEYS = tuple(sorted(ai for ai, entry in dictionary().items() if entry.is_primary_key))


def render(error: DomainError, scope: Scope) -> Response:
    return JSONBody(
        {"type": "about:blank", "title": error.message, "status": error.status, "error": error.name},
        status_code=error.status,
        headers=retry_after(error),
        media_type=PROBLEM_JSON,
    )


ERROR_BODY = {
    "type": "object",
    "required": ["type", "title", "status", "error"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "error": {"type": "string"},
    },
}

GS1_RESOLVER = Face(
    "gs1_resolver",
    render,
    paths=("/.well-known/gs1resolver", *(f"/{ai}/" for ai in PRIMARY_KEYS)),
    error_body=ERROR_BODY,
    error_media_type=PROBLEM_JSON,
)
