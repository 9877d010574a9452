"""Errors of GS1 company prefix declarations."""

from __future__ import annotations

from foundation.errors import Conflict, Forbidden, InvalidRequest, NotFound


class CompanyPrefixInvalid(InvalidRequest):
    name = "gs1.company_prefix_invalid"

    def __init__(self) -> None:
        super().__init__("a GS1 company prefix is 4 to 12 digits (GS1 General Specifications §1.4.4)")


class CompanyPrefixNotFound(NotFound):
    name = "gs1.company_prefix_not_found"

    def __init__(self, company_prefix: str) -> None:
        super().__init__(f"no declaration of the GS1 company prefix {company_prefix[:16]}")


class CompanyPrefixTaken(Conflict):
    """Raised with the declaration that holds the digits (the same prefix, or one that is a prefix of the other)."""

    name = "gs1.company_prefix_taken"


class CompanyPrefixBadTransition(Conflict):
    """Raised with the state that forbids the change."""

    name = "gs1.company_prefix_bad_transition"


class CompanyPrefixForbidden(Forbidden):
    """Raised with the rule the caller does not meet."""

    name = "gs1.company_prefix_forbidden"
