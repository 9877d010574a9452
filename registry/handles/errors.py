"""Errors of identifier writes and read grants."""

from __future__ import annotations

from foundation.errors import (
    AlreadyExists,
    Forbidden,
    InvalidRequest,
    InvalidValue,
    NotResponsible,
    Unauthenticated,
    ValueExists,
    ValuesNotFound,
)


class AdminRequired(InvalidValue):
    name = "handle.admin_required"

    def __init__(self, handle: str) -> None:
        super().__init__(
            f"{handle} is a prefix's NA handle: it must keep an HS_ADMIN value, or nobody administers the prefix"
        )
        self.handle = handle


class BadReader(InvalidRequest):
    name = "readers.bad_grantee"

    def __init__(self, text: str) -> None:
        super().__init__(f"reader {text!r}: write enterprise:<id>, code:<credit code> or identity:<index:handle>")
        self.text = text


class BadTemplateVersion(InvalidRequest):
    name = "request.bad_template_version"

    def __init__(self) -> None:
        super().__init__("templateVersion must be a non-empty string")


class HandleCreatedConcurrently(AlreadyExists):
    """Raised with the message of the check that failed."""

    name = "handle.created_concurrently"


class HandleDuplicate(AlreadyExists):
    name = "handle.duplicate"

    def __init__(self, handle: str) -> None:
        super().__init__(f"{handle} appears twice in this request")
        self.handle = handle


class HandleExists(AlreadyExists):
    name = "handle.exists"

    def __init__(self, handle: str) -> None:
        super().__init__(f"{handle} already exists")
        self.handle = handle


class HandleForbidden(Forbidden):
    name = "handle.forbidden"

    def __init__(self, actor: str, wanted: str, handle: str) -> None:
        super().__init__(f"{actor} lacks permission ({wanted}) on {handle}")
        self.actor = actor
        self.wanted = wanted
        self.handle = handle


class HandleReserved(Forbidden):
    """Raised with the message of the check that failed."""

    name = "handle.reserved"


class HandleTombstoned(AlreadyExists):
    name = "handle.tombstoned"

    def __init__(self, handle: str) -> None:
        super().__init__(f"{handle} was deleted and its name is never reused")
        self.handle = handle


class IndexTaken(ValueExists):
    name = "handle.value_exists"

    def __init__(self, handle: str, index: int) -> None:
        super().__init__(f"{handle} already has a value at index {index}")
        self.handle = handle
        self.index = index


class IndexMismatch(InvalidRequest):
    name = "handle.index_mismatch"

    def __init__(self, handle: str, unsent: list[int], unlisted: list[int]) -> None:
        problems = []
        if unsent:
            problems.append(f"index {', '.join(map(str, unsent))} listed without a value in the body")
        if unlisted:
            problems.append(f"value at index {', '.join(map(str, unlisted))} outside the listed indices")
        super().__init__(f"{handle}: the index parameters must name exactly the body's values ({'; '.join(problems)})")
        self.handle = handle
        self.unsent = unsent
        self.unlisted = unlisted


class ItemNotObject(InvalidRequest):
    name = "request.item_not_object"

    def __init__(self) -> None:
        super().__init__("each item must be an object with handle and value")


class ListForbidden(Forbidden):
    name = "handle.list_forbidden"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"listing {prefix} is for its administrators")
        self.prefix = prefix


class ListUnauthenticated(Unauthenticated):
    name = "handle.list_unauthenticated"

    def __init__(self) -> None:
        super().__init__("listing the identifiers under a prefix requires authentication as one of its administrators")


class NoValuesAtIndexes(ValuesNotFound):
    name = "handle.values_not_found"

    def __init__(self, handle: str) -> None:
        super().__init__(f"{handle} has no value at the given indexes")
        self.handle = handle


class PrefixNotServed(NotResponsible):
    """Raised with the message of the check that failed."""

    name = "handle.not_responsible"


class ReadersForbidden(Forbidden):
    name = "readers.forbidden"

    def __init__(self, actor: str, handle: str) -> None:
        super().__init__(f"{actor} does not administer {handle}")
        self.actor = actor
        self.handle = handle


class TooManyReaders(InvalidRequest):
    name = "readers.too_many"

    def __init__(self, most: int) -> None:
        super().__init__(f"at most {most} readers per value")
        self.most = most
