"""The EPCIS face's one error renderer: RFC 7807 problem details with the EPCIS 2.0 exception names. An error may
add problem members of its own (``problem``: the capture report of a refused document)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from foundation.errors import DomainError, Kind
from foundation.http.face import Face
from foundation.http.responses import JSONBody, retry_after

PROBLEM_JSON = "application/problem+json"

# kind -> (EPCIS exception, HTTP status); any other kind is a ValidationException answered 400.
EPCIS_EXCEPTIONS: dict[Kind, tuple[str, int]] = {
    Kind.UNAUTHENTICATED: ("epcisException:SecurityException", 401),
    Kind.CREDENTIALS_REFUSED: ("epcisException:SecurityException", 401),
    Kind.FORBIDDEN: ("epcisException:SecurityException", 403),
    Kind.NOT_FOUND: ("epcisException:NoSuchResourceException", 404),
    Kind.ALREADY_EXISTS: ("epcisException:ResourceAlreadyExistsException", 409),
    Kind.TOO_LARGE: ("epcisException:CaptureLimitExceededException", 413),
    Kind.UNAVAILABLE: ("epcisException:ImplementationException", 503),
    Kind.INTERNAL: ("epcisException:ImplementationException", 500),
}


def render(error: DomainError, scope: Scope) -> Response:
    kind, status = EPCIS_EXCEPTIONS.get(error.kind, ("epcisException:ValidationException", 400))
    members = getattr(error, "problem", None) or {}
    return JSONBody(
        {"type": kind, "title": error.message, "status": status, "error": error.name, **members},
        status_code=status,
        headers=retry_after(error),
        media_type=PROBLEM_JSON,
    )


ERROR_BODY = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "error": {"type": "string"},
    },
}

EPCIS = Face("epcis", render, paths=("/epcis", "/trace"), error_body=ERROR_BODY, error_media_type=PROBLEM_JSON)
