"""GS1 Application Identifiers as GS1's Barcode Syntax Dictionary defines them (``data/gs1-syntax-dictionary.txt``).

Each entry gives an AI (or a range of them) its components (character set, length, optional or not, and the
validation routines — "linters" — that apply to each), whether it is a GS1 Digital Link primary key and which key
qualifiers it takes in which order, whether it may stand in a Digital Link query string as a data attribute, and the
AIs it requires or excludes. The table is read once from the packaged file, the only file this package reads; the
file's own header documents its syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_COMPONENT = re.compile(r"^([NXYZ])(\d+)?(?:\.\.(\d+))?$")
_FLAG_CHARACTERS = set("*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~")


@dataclass(frozen=True)
class Component:
    """One part of an AI's data field: ``N`` digits, ``X`` GS1 character set 82, ``Y`` set 39, ``Z`` base64url."""

    charset: str
    min_length: int
    max_length: int
    optional: bool
    linters: tuple[str, ...]

    @property
    def fixed(self) -> bool:
        return self.min_length == self.max_length


@dataclass(frozen=True)
class ApplicationIdentifier:
    """One AI: its components, its Digital Link role and its pairing rules."""

    ai: str
    title: str
    components: tuple[Component, ...]
    predefined_length: bool  # "*": no FNC1 separator needed after it in a barcode
    dl_attribute: bool  # "?": may stand in a Digital Link query string
    # None: not a Digital Link primary key; else the alternative ordered sequences of qualifier AIs it takes
    dl_qualifiers: tuple[tuple[str, ...], ...] | None
    requires: tuple[tuple[tuple[str, ...], ...], ...]  # each req= rule: alternatives, each a group of AI patterns
    excludes: tuple[str, ...]  # AI patterns ('n' = any digit) it may not stand with

    @property
    def is_primary_key(self) -> bool:
        return self.dl_qualifiers is not None

    @property
    def qualifiers(self) -> frozenset[str]:
        return frozenset(ai for sequence in self.dl_qualifiers or () for ai in sequence)

    @property
    def max_length(self) -> int:
        return sum(c.max_length for c in self.components)


def _component(token: str) -> Component:
    optional = token.startswith("[")
    kind, *linters = token.replace("[", "").replace("]", "").split(",")
    match = _COMPONENT.match(kind)
    if match is None:
        raise ValueError(f"unreadable component {token!r} in the syntax dictionary")
    charset, fixed, upper = match.groups()
    if upper is not None:
        low, high = (int(fixed) if fixed else 1), int(upper)
    else:
        low = high = int(fixed)
    return Component(charset, low, high, optional, tuple(linters))


def _entry(ai: str, flags: str, components: list[str], attributes: list[str], title: str) -> ApplicationIdentifier:
    dl_qualifiers: tuple[tuple[str, ...], ...] | None = None
    requires: list[tuple[tuple[str, ...], ...]] = []
    excludes: list[str] = []
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        if key == "dlpkey":
            dl_qualifiers = tuple(tuple(s.split(",")) if s else () for s in value.split("|")) if value else ((),)
        elif key == "req":
            requires.append(tuple(tuple(group.split("+")) for group in value.split(",")))
        elif key == "ex":
            excludes.extend(value.split(","))
    return ApplicationIdentifier(
        ai=ai,
        title=title,
        components=tuple(_component(c) for c in components),
        predefined_length="*" in flags,
        dl_attribute="?" in flags,
        dl_qualifiers=dl_qualifiers,
        requires=tuple(requires),
        excludes=tuple(excludes),
    )


def _ais(spec: str) -> list[str]:
    first, _, last = spec.partition("-")
    if not last:
        return [first]
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def parse_dictionary(text: str) -> dict[str, ApplicationIdentifier]:
    """Every AI of a syntax dictionary's text, keyed by its digits."""
    table: dict[str, ApplicationIdentifier] = {}
    for raw in text.splitlines():
        line, _, title = raw.partition("#")
        tokens = line.split()
        if not tokens:
            continue
        spec, rest = tokens[0], tokens[1:]
        flags = ""
        if rest and set(rest[0]) <= _FLAG_CHARACTERS:
            flags, rest = rest[0], rest[1:]
        components = [t for t in rest if t.startswith("[") or _COMPONENT.match(t.split(",")[0])]
        attributes = rest[len(components) :]
        for ai in _ais(spec):
            table[ai] = _entry(ai, flags, components, attributes, title.strip())
    return table


@cache
def dictionary() -> dict[str, ApplicationIdentifier]:
    """The packaged GS1 Barcode Syntax Dictionary, read once."""
    text = resources.files(__package__).joinpath("data/gs1-syntax-dictionary.txt").read_text(encoding="utf-8")
    return parse_dictionary(text)


def lookup(ai: str) -> ApplicationIdentifier | None:
    """The AI's entry, or None for digits GS1 has not allocated."""
    return dictionary().get(ai)


def matches(ai: str, pattern: str) -> bool:
    """An AI against a pattern of the dictionary's ``req``/``ex`` lists, where ``n`` stands for any digit."""
    return len(ai) == len(pattern) and all(p == "n" or p == a for a, p in zip(ai, pattern, strict=True))
