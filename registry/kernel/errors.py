"""Errors of the Handle kernel: identifier syntax, values, the actor's role."""

from __future__ import annotations

from foundation.errors import Forbidden, HandleNotFound, InvalidHandle, InvalidRequest, InvalidValue, ValueExists


class AdminValueInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "value.admin_invalid"


class HandleControlCharacters(InvalidHandle):
    name = "handle.control_characters"

    def __init__(self) -> None:
        super().__init__("identifier contains NUL or control characters")


class HandleEmpty(InvalidHandle):
    name = "handle.empty"

    def __init__(self) -> None:
        super().__init__("identifier is empty")


class HandleExtraSlash(InvalidHandle):
    name = "handle.extra_slash"

    def __init__(self) -> None:
        super().__init__("identifier must contain exactly one '/'")


class HandleMissingSlash(InvalidHandle):
    name = "handle.missing_slash"

    def __init__(self) -> None:
        super().__init__("identifier must be prefix/suffix")


class HandleTooLong(InvalidHandle):
    """Raised with the message of the check that failed."""

    name = "handle.too_long"


class IdentifierNotFound(HandleNotFound):
    """Raised with the message of the check that failed."""

    name = "handle.not_found"


class IndexDuplicate(InvalidValue):
    name = "value.index_duplicate"

    def __init__(self, index: int) -> None:
        super().__init__(f"index {index} appears twice")
        self.index = index


class IndexInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "value.index_invalid"


class PermissionsInvalid(InvalidValue):
    name = "value.permissions_invalid"

    def __init__(self, where: str) -> None:
        super().__init__(f"{where}: permissions must be 4 characters of 0/1")
        self.where = where


class PrefixCharacters(InvalidHandle):
    name = "handle.prefix_characters"

    def __init__(self, segment: str) -> None:
        super().__init__(f"prefix segment {segment!r} may contain only A-Z a-z 0-9")
        self.segment = segment


class PrefixEmpty(InvalidHandle):
    name = "handle.prefix_empty"

    def __init__(self) -> None:
        super().__init__("prefix is empty")


class PrefixSegmentEmpty(InvalidHandle):
    name = "handle.prefix_segment_empty"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"prefix {prefix!r} has an empty segment")
        self.prefix = prefix


class ReadOnlyActor(Forbidden):
    name = "auth.read_only"

    def __init__(self, actor: str) -> None:
        super().__init__(f"{actor} is an auditor: it reads and writes nothing")
        self.actor = actor


class ReferencesInvalid(InvalidValue):
    name = "value.references_invalid"

    def __init__(self, where: str) -> None:
        super().__init__(f"{where}: references must be a list")
        self.where = where


class RoleForbidden(Forbidden):
    """Raised with the message of the check that failed."""

    name = "auth.role_forbidden"


class SearchTooBroad(InvalidRequest):
    name = "search.too_broad"

    def __init__(self, milliseconds: int) -> None:
        super().__init__(
            f"the search did not finish within {milliseconds} ms: narrow it (a longer start of the value, an exact "
            "field, a prefix) or page less deep"
        )
        self.milliseconds = milliseconds


class SuffixCharacters(InvalidHandle):
    """Raised with the message of the check that failed."""

    name = "handle.suffix_characters"


class SuffixEmpty(InvalidHandle):
    name = "handle.suffix_empty"

    def __init__(self) -> None:
        super().__init__("identifier suffix is empty")


class TtlInvalid(InvalidValue):
    name = "value.ttl_invalid"

    def __init__(self, where: str, max_ttl: int) -> None:
        super().__init__(f"{where}: ttl must be an integer from 0 to {max_ttl}")
        self.where = where
        self.max_ttl = max_ttl


class ValueDataInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "value.data_invalid"


class ValueFormatUnknown(InvalidValue):
    name = "value.format_unknown"

    def __init__(self, where: str, fmt: str) -> None:
        super().__init__(f"{where}: unknown data format {fmt!r}")
        self.where = where
        self.fmt = fmt


class ValueNotObject(InvalidValue):
    name = "value.not_object"

    def __init__(self, where: str) -> None:
        super().__init__(f"{where}: must be an object")
        self.where = where


class ValueTypeInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "value.type_invalid"


class ValuesBodyInvalid(InvalidValue):
    name = "value.body_invalid"

    def __init__(self) -> None:
        super().__init__('body must be {"values": [...]}, a list of values, or one value')


class VlistInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "value.vlist_invalid"


class BadAlias(InvalidValue):
    """Raised with the alias and the reason it is refused (registry.kernel.aliases)."""

    name = "value.bad_alias"


class AliasTaken(ValueExists):
    """Raised with the alias and the handle that holds it: a key names one handle at a time."""

    name = "value.alias_taken"


class AliasNotYours(Forbidden):
    """Raised with the GS1 key an enterprise may not map: no approved GS1 company prefix of its own covers it."""

    name = "value.alias_not_yours"
