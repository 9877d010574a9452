"""A face: one way the node is spoken to (Handle REST, the business API, EPCIS, ...), with the one function that
renders every error it answers. Routes carry their face, so the application's exception handlers render an error in
the envelope of the route that raised it (ADR 0009)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.types import Scope

from foundation.errors import DomainError

ErrorRenderer = Callable[[DomainError, Scope], Response]


@dataclass(frozen=True, eq=False)
class Face:
    """``render`` turns any domain error into this face's answer; ``paths`` are the path prefixes where a request
    that matched no route (a 404, a 405) is answered in this face; ``error_body`` is the OpenAPI schema of the error
    envelope, declared on each of its routes."""

    name: str
    render: ErrorRenderer
    paths: tuple[str, ...] = ()
    error_body: dict[str, Any] = field(default_factory=dict)
    route_class: type[APIRoute] = field(init=False)

    def __post_init__(self) -> None:
        route_class = type(f"{self.name.title().replace('_', '')}Route", (APIRoute,), {"face": self})
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
