"""Errors of prefixes: allocation, audit and the prefix lifecycle."""

from __future__ import annotations

from foundation.errors import Conflict, Forbidden, InvalidRequest, NotFound


class EnterpriseRequired(InvalidRequest):
    name = "prefix.enterprise_required"

    def __init__(self) -> None:
        super().__init__("enterpriseId is required")


class PasswordRequired(InvalidRequest):
    name = "prefix.password_required"

    def __init__(self) -> None:
        super().__init__("adminPassword is required (the secret of <prefix>/admin)")


class PrefixBadTransition(Conflict):
    """Raised with the message of the check that failed."""

    name = "prefix.bad_transition"


class PrefixCodeInvalid(InvalidRequest):
    name = "prefix.code_invalid"

    def __init__(self) -> None:
        super().__init__("prefix code must be 1-32 characters of A-Z a-z 0-9")


class PrefixForbidden(Forbidden):
    """Raised with the message of the check that failed."""

    name = "prefix.forbidden"


class PrefixNotEmpty(Conflict):
    name = "prefix.not_empty"

    def __init__(self, prefix: str, live: int) -> None:
        super().__init__(f"prefix {prefix} still has {live} live identifiers; delete them first")
        self.prefix = prefix
        self.live = live


class PrefixNotEnabled(Conflict):
    """Raised with the message of the check that failed."""

    name = "prefix.not_enabled"


class PrefixNotFound(NotFound):
    name = "prefix.not_found"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"prefix {prefix} does not exist")
        self.prefix = prefix


class PrefixTaken(Conflict):
    name = "prefix.taken"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"prefix {prefix} is taken")
        self.prefix = prefix
