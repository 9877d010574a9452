"""A GS1 key with its key qualifiers, as GS1 Digital Link addresses it: the primary key (``01`` GTIN, ``00`` SSCC,
``414`` GLN, ``8003`` GRAI, ``8004`` GIAI, …) and the qualifiers the syntax dictionary allows it, in their order
(``01`` → ``22``, ``10``, ``21``; ``414`` → ``254``).

``make_key`` is the one way to build one: it validates every value (check digits included), the qualifiers'
order and the pairing rules, and puts the key in canonical form (GTIN-8/12/13 padded to GTIN-14), so two spellings
of one key compare and hash equal, and ``canonical`` is a stable text for an index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from foundation.gs1.elements import application_identifier, check_combination, check_value
from foundation.gs1.errors import BadAICombination, BadAIValue

_GTIN_AIS = frozenset({"01", "02"})
_SHORT_GTIN_LENGTHS = frozenset({8, 12, 13})


def normalise_value(ai: str, value: str) -> str:
    """A GTIN given as GTIN-8, -12 or -13 padded with zeros to 14 digits, as GS1 Digital Link asks; other values
    unchanged."""
    if ai in _GTIN_AIS and len(value) in _SHORT_GTIN_LENGTHS and value.isascii() and value.isdigit():
        return value.zfill(14)
    return value


@dataclass(frozen=True)
class GS1Key:
    """A primary key and its qualifiers, validated and canonical (build it with ``make_key``)."""

    ai: str
    value: str
    qualifiers: tuple[tuple[str, str], ...] = ()

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        return ((self.ai, self.value), *self.qualifiers)

    @property
    def canonical(self) -> str:
        """The key as a GS1 element string with parentheses, e.g. ``(01)09520123456788(10)ABC(21)12345``."""
        return "".join(f"({ai}){value}" for ai, value in self.elements)

    def qualifier(self, ai: str) -> str | None:
        return next((value for q, value in self.qualifiers if q == ai), None)

    def less_specific(self) -> list[GS1Key]:
        """This key, then each key with one qualifier fewer from the right, down to the bare primary key: the order
        in which a resolver falls back (serial → lot → GTIN)."""
        return [GS1Key(self.ai, self.value, self.qualifiers[:n]) for n in range(len(self.qualifiers), -1, -1)]

    @property
    def company_prefix_offset(self) -> int:
        """Where the GS1 Company Prefix begins in the primary key's value (after a GTIN's indicator digit, an SSCC's
        extension digit, a GRAI's leading zero), from the component the dictionary marks ``gcppos1``/``gcppos2``."""
        offset = 0
        for component in application_identifier(self.ai).components:
            if "gcppos1" in component.linters:
                return offset
            if "gcppos2" in component.linters:
                return offset + 1
            offset += component.max_length
        return 0

    def has_company_prefix(self, company_prefix: str) -> bool:
        """True when the key was allocated under ``company_prefix`` (a string of 4 to 12 digits)."""
        start = self.company_prefix_offset
        return self.value[start : start + len(company_prefix)] == company_prefix


def make_key(ai: str, value: str, qualifiers: Iterable[tuple[str, str]] = ()) -> GS1Key:
    """Validate and canonicalise a primary key and its qualifiers (given in path order)."""
    entry = application_identifier(ai)
    if not entry.is_primary_key:
        raise BadAIValue(ai, "not a GS1 Digital Link primary key")
    value = normalise_value(ai, value)
    check_value(ai, value)
    ordered = tuple(qualifiers)
    _check_order(ai, tuple(q for q, _ in ordered), entry.dl_qualifiers or ((),))
    for qualifier, qualifier_value in ordered:
        check_value(qualifier, qualifier_value)
    check_combination([ai, *(q for q, _ in ordered)])
    return GS1Key(ai, value, ordered)


def _check_order(ai: str, given: tuple[str, ...], sequences: tuple[tuple[str, ...], ...]) -> None:
    """The qualifiers must all come from one of the key's alternative sequences, each at most once, in its order."""
    for sequence in sequences:
        positions = [sequence.index(q) if q in sequence else -1 for q in given]
        if -1 not in positions and positions == sorted(set(positions)):
            return
    allowed = " | ".join("/".join(s) or "none" for s in sequences)
    found = "/".join(given)
    raise BadAICombination(f"({ai}) takes the qualifiers {allowed} in that order, not {found}", ai=ai)
