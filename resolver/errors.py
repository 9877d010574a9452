"""Errors of the read path: record lookup, history, the cache and trace queries."""

from __future__ import annotations

from foundation.errors import Forbidden, HandleNotFound, InvalidRequest, NotFound, Unauthenticated, Unavailable


class AliasNotFound(NotFound):
    name = "alias.not_found"

    def __init__(self, alias: str) -> None:
        super().__init__(f"no handle is mapped to {alias[:120]}")


class BadPageToken(InvalidRequest):
    name = "query.bad_token"

    def __init__(self) -> None:
        super().__init__("nextPageToken is not one this node issued")


class BadQueryParameter(InvalidRequest):
    name = "query.bad_parameter"

    def __init__(self, parameter: str, low: int, high: int) -> None:
        super().__init__(f"{parameter} must be an integer from {low} to {high}")
        self.parameter = parameter
        self.low = low
        self.high = high


class BadQueryTime(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "query.bad_time"


class CacheUnavailable(Unavailable):
    name = "cache.unavailable"

    def __init__(self, cause: str) -> None:
        super().__init__(f"the cache cannot be reached ({cause}); nothing was written, retry")
        self.cause = cause


class CacheUnconfirmed(Unavailable):
    name = "cache.unconfirmed"

    def __init__(self, versions: str, *, truncated: bool) -> None:
        super().__init__(
            f"the change was committed ({versions}{', ...' if truncated else ''}) but the cache could not be confirmed"
        )
        self.versions = versions


class HandleDeleted(HandleNotFound):
    name = "handle.deleted"

    def __init__(self, handle: str, version: int) -> None:
        super().__init__(f"{handle} was deleted (version {version}); its name is not reused")
        self.handle = handle
        self.version = version


class HistoryForbidden(Forbidden):
    name = "handle.history_forbidden"

    def __init__(self, handle: str) -> None:
        super().__init__(f"the history of {handle} is for its administrators")
        self.handle = handle


class MissingEpc(InvalidRequest):
    name = "query.missing_epc"

    def __init__(self) -> None:
        super().__init__("MATCH_anyEPC (one or more identifiers) is required")


class MissingHandle(InvalidRequest):
    name = "query.missing_handle"

    def __init__(self) -> None:
        super().__init__("handle is required")


class QueryForbidden(Forbidden):
    """Raised with the message of the check that failed."""

    name = "query.forbidden"


class SearchFieldInvalid(InvalidRequest):
    name = "search.bad_field"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field[:64]!r} is not a value type that can be searched (1 to 64 characters, no control)")
        self.field = field[:64]


class SearchLeadingWildcard(InvalidRequest):
    """Raised with the reason: no trigram index on this node, or too little text between the wildcards."""

    name = "search.leading_wildcard"


class SearchNoField(InvalidRequest):
    name = "search.no_field"

    def __init__(self) -> None:
        super().__init__(
            "name at least one field to search, as TYPE=value: URL=https://example.com/* (* matches any text)"
        )


class SearchUnauthenticated(Unauthenticated):
    name = "search.unauthenticated"

    def __init__(self) -> None:
        super().__init__("this node searches by value for authenticated callers only")


class SearchValueEmpty(InvalidRequest):
    name = "search.empty_value"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} has no value to search for (* matches every value)")
        self.field = field


class SearchValueTooLong(InvalidRequest):
    name = "search.value_too_long"

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(f"the value searched in {field} is longer than {limit} characters")
        self.field = field
        self.limit = limit


class TooManyFilters(InvalidRequest):
    name = "request.filters"

    def __init__(self, most: int) -> None:
        super().__init__(f"at most {most} type and index filters per query")
        self.most = most


class TooManySearchFields(InvalidRequest):
    name = "search.too_many_fields"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} fields may be searched at once")
        self.limit = limit
