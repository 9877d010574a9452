"""Domain errors: a stable name, a kind, and a message. Each face renders them with its own codes."""

from __future__ import annotations

from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What went wrong, independent of any face. Faces map kinds to their own codes."""

    INVALID_HANDLE = "invalid_handle"  # Handle 102
    INVALID_VALUE = "invalid_value"  # Handle 202
    INVALID_REQUEST = "invalid_request"  # Handle 2 (client side), business -2
    NOT_FOUND = "not_found"  # Handle 100
    VALUES_NOT_FOUND = "values_not_found"  # Handle 200
    ALREADY_EXISTS = "already_exists"  # Handle 101
    VALUE_EXISTS = "value_exists"  # Handle 201
    NOT_RESPONSIBLE = "not_responsible"  # Handle 301
    UNAUTHENTICATED = "unauthenticated"  # Handle 402, business -1
    FORBIDDEN = "forbidden"  # Handle 400, business -3
    CONFLICT = "conflict"  # a state that forbids the operation (business -2, HTTP 409)
    TOO_LARGE = "too_large"  # body over the limit
    UNAVAILABLE = "unavailable"  # a dependency is down (HTTP 503)
    RATE_LIMITED = "rate_limited"  # too many requests from one address (HTTP 429)
    DAILY_LIMIT = "daily_limit"  # IDIS 603: the identity's daily requests are used up (HTTP 429)
    REGISTRATION_LIMIT = "registration_limit"  # IDIS 604: the prefix's daily registrations are used up (HTTP 429)
    INTERNAL = "internal"  # a fault of the node, not of the request (HTTP 500)


# The HTTP status of each kind: the same on every face (each face adds its own code to it).
HTTP_STATUS: dict[Kind, int] = {
    Kind.INVALID_HANDLE: 400, Kind.INVALID_VALUE: 400, Kind.INVALID_REQUEST: 400, Kind.NOT_FOUND: 404,
    Kind.VALUES_NOT_FOUND: 400, Kind.ALREADY_EXISTS: 409, Kind.VALUE_EXISTS: 409, Kind.NOT_RESPONSIBLE: 400,
    Kind.UNAUTHENTICATED: 401, Kind.FORBIDDEN: 403, Kind.CONFLICT: 409, Kind.TOO_LARGE: 413, Kind.UNAVAILABLE: 503,
    Kind.RATE_LIMITED: 429, Kind.DAILY_LIMIT: 429, Kind.REGISTRATION_LIMIT: 429, Kind.INTERNAL: 500,
}


class DomainError(Exception):
    """Base of every error a service raises on purpose. ``name`` is stable and documented."""

    kind: Kind = Kind.INVALID_REQUEST
    name: str = "error"

    def __init__(self, message: str, *, name: str | None = None, kind: Kind | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        if name is not None:
            self.name = name
        if kind is not None:
            self.kind = kind
        self.details = details

    @property
    def status(self) -> int:
        """The HTTP status this error is answered with."""
        return HTTP_STATUS[self.kind]


class InvalidHandle(DomainError):
    kind, name = Kind.INVALID_HANDLE, "handle.invalid"


class InvalidValue(DomainError):
    kind, name = Kind.INVALID_VALUE, "value.invalid"


class InvalidRequest(DomainError):
    kind, name = Kind.INVALID_REQUEST, "request.invalid"


class NotFound(DomainError):
    kind, name = Kind.NOT_FOUND, "not_found"


class HandleNotFound(DomainError):
    kind, name = Kind.NOT_FOUND, "handle.not_found"


class ValuesNotFound(DomainError):
    kind, name = Kind.VALUES_NOT_FOUND, "handle.values_not_found"


class AlreadyExists(DomainError):
    kind, name = Kind.ALREADY_EXISTS, "already_exists"


class ValueExists(DomainError):
    kind, name = Kind.VALUE_EXISTS, "handle.value_exists"


class NotResponsible(DomainError):
    kind, name = Kind.NOT_RESPONSIBLE, "handle.not_responsible"


class Unauthenticated(DomainError):
    kind, name = Kind.UNAUTHENTICATED, "auth.unauthenticated"


class Forbidden(DomainError):
    kind, name = Kind.FORBIDDEN, "auth.forbidden"


class Conflict(DomainError):
    kind, name = Kind.CONFLICT, "state.conflict"


class TooLarge(DomainError):
    kind, name = Kind.TOO_LARGE, "request.too_large"


class Unavailable(DomainError):
    kind, name = Kind.UNAVAILABLE, "service.unavailable"


class LimitExceeded(DomainError):
    """A budget is used up (foundation.http.budgets); ``retry_after`` seconds until it is refilled."""
    kind, name = Kind.RATE_LIMITED, "limit.rate"

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
