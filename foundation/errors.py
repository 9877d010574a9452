"""Domain errors: a stable name, a kind, an HTTP status and a message. Each face renders them with its own codes.

The generic classes below (``InvalidRequest``, ``NotFound``, ``Conflict``, …) give the kind; each context names its
errors in its own ``errors.py`` as subclasses of them (``registry.prefixes.errors.PrefixTaken``), with the stable
name as a class attribute and the data the message is built from as attributes. The foundation's own errors (crypto,
federation, request parsing) are at the end of this module. ``docs/errors.md`` is generated from them all
(``python -m node.error_catalogue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any, ClassVar


class Kind(str, Enum):
    """What went wrong, independent of any face, and the HTTP status every face answers it with. Faces map kinds to
    their own codes (each face's ``render`` module)."""

    status: int

    def __new__(cls, value: str, status: int) -> Kind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        return member

    INVALID_HANDLE = "invalid_handle", 400  # Handle 102
    INVALID_VALUE = "invalid_value", 400  # Handle 202
    INVALID_REQUEST = "invalid_request", 400  # Handle 2 (client side), business -2
    NOT_FOUND = "not_found", 404  # Handle 100
    VALUES_NOT_FOUND = "values_not_found", 400  # Handle 200
    ALREADY_EXISTS = "already_exists", 409  # Handle 101
    VALUE_EXISTS = "value_exists", 409  # Handle 201
    NOT_RESPONSIBLE = "not_responsible", 400  # Handle 301
    UNAUTHENTICATED = "unauthenticated", 401  # Handle 402, business -1
    # a password or secret refused, or its account locked: Handle 402; business -2, as SNMS answers a failed login
    CREDENTIALS_REFUSED = "credentials_refused", 401
    FORBIDDEN = "forbidden", 403  # Handle 400, business -3
    CONFLICT = "conflict", 409  # a state that forbids the operation (business -2)
    TOO_LARGE = "too_large", 413  # body over the limit
    UNAVAILABLE = "unavailable", 503  # a dependency is down
    RATE_LIMITED = "rate_limited", 429  # too many requests from one address
    DAILY_LIMIT = "daily_limit", 429  # IDIS 603: the identity's daily requests are used up
    REGISTRATION_LIMIT = "registration_limit", 429  # IDIS 604: the prefix's daily registrations are used up
    INTERNAL = "internal", 500  # a fault of the node, not of the request


class DomainError(Exception):
    """Base of every error a service raises on purpose. ``name`` is stable and documented; ``kind`` and ``status``
    (derived from the kind) are class attributes too. Extra keyword arguments are kept as ``details``."""

    kind: ClassVar[Kind] = Kind.INVALID_REQUEST
    name: ClassVar[str] = "error"
    status: ClassVar[int] = Kind.INVALID_REQUEST.status
    generic: ClassVar[bool] = True  # a base that gives a kind; the catalogue lists only named (non-generic) classes
    problem: dict[str, Any] | None = None  # members a face may add to its answer (the EPCIS capture report)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.status = cls.kind.status
        cls.generic = cls.__dict__.get("generic", False)

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidHandle(DomainError):
    kind, name, generic = Kind.INVALID_HANDLE, "handle.invalid", True


class InvalidValue(DomainError):
    kind, name, generic = Kind.INVALID_VALUE, "value.invalid", True


class InvalidRequest(DomainError):
    kind, name, generic = Kind.INVALID_REQUEST, "request.invalid", True


class NotFound(DomainError):
    kind, name, generic = Kind.NOT_FOUND, "not_found", True


class HandleNotFound(DomainError):
    kind, name, generic = Kind.NOT_FOUND, "handle.not_found", True


class ValuesNotFound(DomainError):
    kind, name, generic = Kind.VALUES_NOT_FOUND, "handle.values_not_found", True


class AlreadyExists(DomainError):
    kind, name, generic = Kind.ALREADY_EXISTS, "already_exists", True


class ValueExists(DomainError):
    kind, name, generic = Kind.VALUE_EXISTS, "handle.value_exists", True


class NotResponsible(DomainError):
    kind, name, generic = Kind.NOT_RESPONSIBLE, "handle.not_responsible", True


class Unauthenticated(DomainError):
    kind, name, generic = Kind.UNAUTHENTICATED, "auth.unauthenticated", True


class CredentialsRefused(DomainError):
    kind, name, generic = Kind.CREDENTIALS_REFUSED, "auth.credentials_refused", True


class Forbidden(DomainError):
    kind, name, generic = Kind.FORBIDDEN, "auth.forbidden", True


class Conflict(DomainError):
    kind, name, generic = Kind.CONFLICT, "state.conflict", True


class TooLarge(DomainError):
    kind, name, generic = Kind.TOO_LARGE, "request.too_large", True


class Unavailable(DomainError):
    kind, name, generic = Kind.UNAVAILABLE, "service.unavailable", True


class LimitExceeded(DomainError):
    """A budget is used up (foundation.http.budgets); ``retry_after`` seconds until it is refilled."""

    kind, name, generic = Kind.RATE_LIMITED, "limit.rate", True

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class DailyLimit(LimitExceeded):
    kind, generic = Kind.DAILY_LIMIT, True


class RegistrationLimit(LimitExceeded):
    kind, generic = Kind.REGISTRATION_LIMIT, True


GENERIC_ERRORS = (
    DomainError,
    InvalidHandle,
    InvalidValue,
    InvalidRequest,
    NotFound,
    HandleNotFound,
    ValuesNotFound,
    AlreadyExists,
    ValueExists,
    NotResponsible,
    Unauthenticated,
    CredentialsRefused,
    Forbidden,
    Conflict,
    TooLarge,
    Unavailable,
    LimitExceeded,
    DailyLimit,
    RegistrationLimit,
)


# The foundation's own errors: request shape, crypto, federation, budgets.


class AddressRateLimited(LimitExceeded):
    name = "limit.rate"

    def __init__(self, limit: int, window: int, *, retry_after: float) -> None:
        super().__init__(f"more than {limit} requests in {window} s from this address", retry_after=retry_after)
        self.limit = limit
        self.window = window


class BadBatch(InvalidRequest):
    name = "request.bad_batch"

    def __init__(self) -> None:
        super().__init__('batch body must be a list of items (or {"data": [...]})')


class BadFlag(InvalidRequest):
    name = "request.bad_flag"

    def __init__(self, parameter: str) -> None:
        super().__init__(f"query parameter {parameter} must be true or false")
        self.parameter = parameter


class BadIndex(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "request.bad_index"


class BadNodeRequest(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "federation.bad_request"


class BadPage(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "request.bad_page"


class BadQrText(InvalidRequest):
    name = "console.bad_qr_text"

    def __init__(self, most: int) -> None:
        super().__init__(f"handle must be 1 to {most} bytes without control characters")
        self.most = most


class BatchTooBig(InvalidRequest):
    name = "request.batch_too_big"

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"batch has {count} items; at most {limit} are allowed")
        self.count = count
        self.limit = limit


class BodyTooLarge(TooLarge):
    name = "request.too_large"

    def __init__(self, most: int) -> None:
        super().__init__(f"request body is larger than {most} bytes")
        self.most = most


class DailyRequestsUsedUp(DailyLimit):
    name = "limit.daily_requests"

    def __init__(self, identity: str, limit: int, *, retry_after: float) -> None:
        super().__init__(f"the daily request limit of {identity} ({limit}) is used up", retry_after=retry_after)
        self.identity = identity
        self.limit = limit


class EmptyBatch(InvalidRequest):
    name = "request.empty_batch"

    def __init__(self) -> None:
        super().__init__("batch is empty")


class EmptyBody(InvalidRequest):
    name = "request.empty_body"

    def __init__(self) -> None:
        super().__init__("request body is empty; JSON expected")


class InvalidFields(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "request.invalid_fields"


class KeyInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "value.key_invalid"


class MalformedJson(InvalidRequest):
    name = "request.malformed_json"

    def __init__(self, problem: object) -> None:
        super().__init__(f"request body is not valid JSON: {problem}")
        self.reason = str(problem)


class MissingParameter(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "request.missing_parameter"


class NoNodeDirectory(Unauthenticated):
    name = "federation.no_directory"

    def __init__(self) -> None:
        super().__init__("this node has no top-level node to check other nodes' keys with")


class NoSigningKey(Unavailable):
    name = "signature.no_key"

    def __init__(self) -> None:
        super().__init__("this node has no signing key yet (secnode init makes it)")


class NodeBadSignature(Unauthenticated):
    name = "federation.bad_signature"

    def __init__(self, node_prefix: str) -> None:
        super().__init__(f"the request is not signed by the key of node {node_prefix}")
        self.node_prefix = node_prefix


class NodeRequestReplayed(Unauthenticated):
    name = "federation.replayed"

    def __init__(self) -> None:
        super().__init__("the request was already received")


class NodeRequestStale(Unauthenticated):
    name = "federation.stale"

    def __init__(self) -> None:
        super().__init__("the request is stale or names another sender")


class RegistrationsUsedUp(RegistrationLimit):
    name = "limit.registrations"

    def __init__(self, prefix: str, limit: int, count: int, *, retry_after: float) -> None:
        super().__init__(
            f"{prefix} may register {limit} identifiers a day; {count} more would exceed it", retry_after=retry_after
        )
        self.prefix = prefix
        self.limit = limit
        self.count = count


class TooManyHandles(TooLarge):
    name = "federation.too_many"

    def __init__(self, most: int) -> None:
        super().__init__(f"at most {most} identifiers per request")
        self.most = most


class UnknownNode(Unauthenticated):
    name = "federation.unknown_node"

    def __init__(self, node_prefix: str) -> None:
        super().__init__(f"node {node_prefix} is not registered at the top-level node")
        self.node_prefix = node_prefix


class WeakPassword(InvalidRequest):
    """A password that breaks the strength rules; ``rules`` names every rule it breaks (also in ``details``)."""

    name = "auth.weak_password"

    def __init__(self, rules: Sequence[str], *, subject: str = "the password") -> None:
        super().__init__(f"{subject} is too weak: " + "; ".join(rules), rules=list(rules))
        self.rules = list(rules)


class HttpError(InvalidRequest):
    """What the framework refuses before an endpoint runs (405, …); the name carries the HTTP status."""

    name = "http.{status}"

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.name = f"http.{status_code}"  # type: ignore[misc]


class HttpNotFound(HttpError):
    """No route answers the path."""

    kind = Kind.NOT_FOUND

    def __init__(self, message: str) -> None:
        super().__init__(404, message)


class NodeUnreachable(Unavailable):
    """Another node, serving an identifier asked here, did not answer."""

    name = "federation.unreachable"


class InternalError(DomainError):
    """A fault of the node, not of the request: answered without its details (they go to the log)."""

    kind, name = Kind.INTERNAL, "internal"

    def __init__(self) -> None:
        super().__init__("internal error")


class AssetNotFound(NotFound):
    """A file of the console that does not exist."""

    name = "console.asset_not_found"

    def __init__(self) -> None:
        super().__init__("not found")


class OperationsForbidden(Forbidden):
    name = "operations.forbidden"

    def __init__(self) -> None:
        super().__init__("only the node administrator reads the operations overview")
