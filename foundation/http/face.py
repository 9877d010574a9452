"""A face: one way the node is spoken to (Handle REST, the business API, EPCIS, ...), with the one function that
renders every error it answers. Routes carry their face, so the application's exception handlers render an error in
the envelope of the route that raised it (ADR 0009)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.types import Scope

from foundation.errors import DomainError

ErrorRenderer = Callable[[DomainError, Scope], Response]

# What any route of a face may answer besides its success: a bad request, no or wrong credentials, something
# missing or in the way, a body over the limit, a used-up budget, a fault of the node or of a dependency.
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 429, 500, 503)


class FaceRoute(APIRoute):
    """A route of a face: its OpenAPI operation declares every error status with the face's error envelope."""

    face: ClassVar[Face]

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        responses: dict[int | str, dict[str, Any]] = dict(kwargs.pop("responses", None) or {})
        for status in ERROR_STATUSES:
            responses.setdefault(
                status,
                {
                    "description": f"refused or failed, in the {self.face.name} face's error envelope",
                    "content": {self.face.error_media_type: {"schema": self.face.error_body}},
                },
            )
        super().__init__(path, endpoint, responses=responses, **kwargs)


@dataclass(frozen=True, eq=False)
class Face:
    """``render`` turns any domain error into this face's answer; ``paths`` are the path prefixes where a request
    that matched no route (a 404, a 405) is answered in this face; ``error_body`` is the OpenAPI schema of the error
    envelope, declared on each of its routes."""

    name: str
    render: ErrorRenderer
    paths: tuple[str, ...] = ()
    error_body: dict[str, Any] = field(default_factory=dict)
    error_media_type: str = "application/json"
    route_class: type[FaceRoute] = field(init=False)

    def __post_init__(self) -> None:
        route_class = type(f"{self.name.title().replace('_', '')}Route", (FaceRoute,), {"face": self})
        object.__setattr__(self, "route_class", route_class)


def face_of(scope: Scope, faces: Sequence[Face], default: Face) -> Face:
    """The face of the route that matched, else the face whose path prefix the request is under."""
    face = getattr(scope.get("route"), "face", None)
    if isinstance(face, Face):
        return face
    path = scope.get("path", "")
    for candidate in faces:
        if any(path.startswith(prefix) for prefix in candidate.paths):
            return candidate
    return default
