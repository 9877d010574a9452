"""The compressed form of GS1 Digital Link (GS1 Digital Link URI Syntax 1.2, §9): the AIs and values of a link
packed into bits and written in base64url as one path segment (``https://id.gs1.org/AQnYUc1gDv0-DE5q``).

Reading it: the bits are a sequence of entries. An entry begins with two hex nibbles. ``00``–``99`` start an AI
(table P says how many more nibbles it has); other values name a frequent sequence of AIs (table Opt), and ``F``
starts a parameter that is not an AI. Each AI's value follows, component by component as table F gives them:
fixed-length digits as a binary number of ⌈n·log2 10⌉ bits; variable-length digits after a length field; other
characters after a 3-bit encoding (0 digits, 1 lower-case hex, 2 upper-case hex, 3 base64url, 4 7-bit ASCII) and,
for a variable length, a length field. The tables are GS1's, from its Digital Link toolkit
(``data/dl-compression-tables.json``, Apache 2.0).
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from typing import Any

import orjson

from foundation.gs1.errors import BadDigitalLink

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_HEX = "0123456789ABCDEF"
_DIGITS_PER_NIBBLE = frozenset("0123456789")
MAX_COMPRESSED_CHARS = 1024


@cache
def _tables() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data/dl-compression-tables.json").read_bytes()
    tables: dict[str, Any] = orjson.loads(text)
    return tables


def _length_bits(maximum: int) -> int:
    return math.ceil(math.log2(maximum) + 0.01)


def _value_bits(digits: int) -> int:
    return math.ceil(digits * math.log2(10) + 0.01)


class _Bits:
    def __init__(self, text: str):
        self.bits = "".join(f"{BASE64URL.index(c):06b}" for c in text)
        self.cursor = 0

    @property
    def left(self) -> int:
        return len(self.bits) - self.cursor

    def take(self, count: int) -> str:
        if count > self.left:
            raise BadDigitalLink("compressed Digital Link: the bits end inside a value")
        chunk = self.bits[self.cursor : self.cursor + count]
        self.cursor += count
        return chunk

    def number(self, count: int) -> int:
        return int(self.take(count), 2) if count else 0

    def nibble(self) -> str:
        return _HEX[self.number(4)]


def _digits(bits: _Bits, count: int) -> str:
    value = bits.number(_value_bits(count)) if count else 0
    text = str(value).zfill(count) if count else ""
    if len(text) > count:
        raise BadDigitalLink("compressed Digital Link: a number longer than its length")
    return text


def _characters(bits: _Bits, encoding: int, count: int) -> str:
    if encoding == 0:
        return _digits(bits, count)
    if encoding in (1, 2):
        text = "".join(_HEX[bits.number(4)] for _ in range(count))
        return text.lower() if encoding == 1 else text
    if encoding == 3:
        return "".join(BASE64URL[bits.number(6)] for _ in range(count))
    if encoding == 4:
        return "".join(chr(bits.number(7)) for _ in range(count))
    raise BadDigitalLink(f"compressed Digital Link: unknown character encoding {encoding}")


def _value(bits: _Bits, ai: str) -> str:
    formats = _tables()["tableF"].get(ai)
    if formats is None:
        raise BadDigitalLink(f"compressed Digital Link: ({ai}) has no compressed form", ai=ai)
    value = ""
    for component in formats:
        numeric = component["E"] == "N"
        if "L" in component:
            length = int(component["L"])
            value += _digits(bits, length) if numeric else _characters(bits, bits.number(3), length)
        else:
            maximum = int(component["M"])
            if numeric:
                value += _digits(bits, bits.number(_length_bits(maximum)))
            else:
                encoding = bits.number(3)
                value += _characters(bits, encoding, bits.number(_length_bits(maximum)))
    return value


def decompress(segment: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (AI, value) pairs and the other (name, value) parameters packed in a compressed segment, in order."""
    if not segment or len(segment) > MAX_COMPRESSED_CHARS or any(c not in BASE64URL for c in segment):
        raise BadDigitalLink("a compressed Digital Link is base64url text of at most 1024 characters")
    tables = _tables()
    bits = _Bits(segment)
    elements: list[tuple[str, str]] = []
    other: list[tuple[str, str]] = []
    while bits.left > 8:
        head = bits.nibble() + bits.nibble()
        if set(head) <= _DIGITS_PER_NIBBLE:
            size = tables["tableP"].get(head)
            if size is None:
                raise BadDigitalLink(f"compressed Digital Link: no AI begins with {head}")
            ai = head + "".join(bits.nibble() for _ in range(int(size) - 2))
            if not ai.isdigit():
                raise BadDigitalLink(f"compressed Digital Link: AI {ai} is not all digits")
            elements.append((ai, _value(bits, ai)))
        elif head in tables["tableOpt"]:
            for ai in tables["tableOpt"][head]:
                elements.append((ai, _value(bits, ai)))
        elif head[0] == "F":
            bits.cursor -= 4
            name_length = bits.number(7)
            name = "".join(BASE64URL[bits.number(6)] for _ in range(name_length))
            encoding = bits.number(3)
            other.append((name, _characters(bits, encoding, bits.number(7))))
        else:
            raise BadDigitalLink(f"compressed Digital Link: {head} names no AI or sequence")
    if bits.bits[bits.cursor :].strip("0"):
        raise BadDigitalLink("compressed Digital Link: bits left over after the last value")
    return elements, other
