"""Errors of GS1 keys, element strings, Digital Link URIs and EPC URNs. Each is a 400 with the reason in its message;
``reason`` and, where there is one, ``ai`` are kept for faces that answer them in fields of their own."""

from __future__ import annotations

from foundation.errors import InvalidRequest, InvalidValue


class GS1Invalid(InvalidRequest):
    """Base of the GS1 errors: what was refused and why."""

    name, generic = "gs1.invalid", True

    def __init__(self, message: str, *, ai: str | None = None) -> None:
        super().__init__(message)
        self.ai = ai


class UnknownApplicationIdentifier(GS1Invalid):
    name = "gs1.unknown_ai"

    def __init__(self, ai: str) -> None:
        super().__init__(f"({ai}) is not a GS1 Application Identifier", ai=ai)


class BadAIValue(GS1Invalid):
    """Raised with the AI and the reason its value fails the syntax dictionary (character set, length, a linter)."""

    name = "gs1.bad_value"

    def __init__(self, ai: str, reason: str) -> None:
        super().__init__(f"({ai}): {reason}", ai=ai)


class BadCheckDigit(GS1Invalid):
    name = "gs1.check_digit"

    def __init__(self, ai: str, reason: str) -> None:
        super().__init__(f"({ai}): {reason}", ai=ai)


class BadAICombination(GS1Invalid):
    """Raised with the rule that a set of AIs breaks: a missing partner (``req``), an excluded one (``ex``), a
    qualifier out of order, an AI given twice."""

    name = "gs1.combination"


class BadDigitalLink(GS1Invalid):
    """Raised with the reason a GS1 Digital Link URI is refused."""

    name = "gs1.digital_link"


class BadEpcUri(GS1Invalid):
    """Raised with the reason an EPC URN is refused."""

    name = "gs1.epc_uri"


class BadLink(InvalidValue):
    """Raised with the reason a GS1_LINK value (a resolver link of a record) is refused."""

    name = "value.bad_gs1_link"
