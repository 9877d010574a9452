"""Validating GS1 element strings: one AI's value against the syntax dictionary, and a set of AIs against the
dictionary's pairing rules (``req=`` and ``ex=``)."""

from __future__ import annotations

from collections.abc import Sequence

from foundation.gs1.dictionary import ApplicationIdentifier, lookup, matches
from foundation.gs1.errors import BadAICombination, BadAIValue, BadCheckDigit, UnknownApplicationIdentifier
from foundation.gs1.linters import CHARSET_LINTERS, LINTERS

_CHECK_LINTERS = frozenset({"csum", "csumalpha"})


def application_identifier(ai: str) -> ApplicationIdentifier:
    """The dictionary's entry for ``ai``; UnknownApplicationIdentifier for anything else (``ai`` is shown as given,
    so keep it short: callers pass at most four characters)."""
    entry = lookup(ai) if ai.isascii() and ai.isdigit() else None
    if entry is None:
        raise UnknownApplicationIdentifier(ai[:8])
    return entry


def check_value(ai: str, value: str) -> None:
    """Raise BadAIValue or BadCheckDigit unless ``value`` is a valid value of ``ai``: each component in turn takes
    its length from the value, then its character set and its linters are applied."""
    entry = application_identifier(ai)
    if not value:
        raise BadAIValue(ai, "empty value")
    if len(value) > entry.max_length:
        raise BadAIValue(ai, f"too long: {len(value)} characters, at most {entry.max_length}")
    position = 0
    for component in entry.components:
        remaining = len(value) - position
        if remaining == 0:
            if component.optional:
                break
            raise BadAIValue(ai, f"too short: {len(value)} characters")
        if component.fixed and remaining < component.min_length:
            raise BadAIValue(ai, f"too short: {len(value)} characters")
        part = value[position : position + component.max_length]
        position += len(part)
        reason = CHARSET_LINTERS[component.charset](part)
        if reason:
            raise BadAIValue(ai, reason)
        for name in component.linters:
            linter = LINTERS.get(name)
            reason = linter(part) if linter else None
            if reason:
                raise (BadCheckDigit if name in _CHECK_LINTERS else BadAIValue)(ai, reason)
    if position < len(value):  # fixed components that ended before the value did
        raise BadAIValue(ai, f"too long: {len(value)} characters")


def check_combination(ais: Sequence[str]) -> None:
    """Raise BadAICombination when an AI appears twice, lacks the partner its ``req=`` rules ask for, or stands with
    one its ``ex=`` rule excludes. The AIs must be known (``application_identifier``)."""
    seen: set[str] = set()
    for ai in ais:
        if ai in seen:
            raise BadAICombination(f"({ai}) given twice", ai=ai)
        seen.add(ai)
    for ai in ais:
        entry = application_identifier(ai)
        for rule in entry.requires:
            if not any(all(any(matches(other, p) for other in seen) for p in group) for group in rule):
                wanted = " or ".join("+".join(f"({p})" for p in group) for group in rule)
                raise BadAICombination(f"({ai}) needs {wanted} beside it", ai=ai)
        for pattern in entry.excludes:
            clash = next((other for other in seen if other != ai and matches(other, pattern)), None)
            if clash is not None:
                raise BadAICombination(f"({ai}) may not stand with ({clash})", ai=ai)
