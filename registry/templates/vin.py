"""VIN check digit (position 9), as GB 16735 and North America require it."""

from __future__ import annotations

_LETTERS = {
    "A": 1,
    "B": 2,
    "C": 3,
    "D": 4,
    "E": 5,
    "F": 6,
    "G": 7,
    "H": 8,
    "J": 1,
    "K": 2,
    "L": 3,
    "M": 4,
    "N": 5,
    "P": 7,
    "R": 9,
    "S": 2,
    "T": 3,
    "U": 4,
    "V": 5,
    "W": 6,
    "X": 7,
    "Y": 8,
    "Z": 9,
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _value(ch: str) -> int | None:
    if ch.isdigit():
        return int(ch)
    return _LETTERS.get(ch)


def check_digit(vin: str) -> str | None:
    values = [v for v in map(_value, vin) if v is not None]
    if len(vin) != 17 or len(values) != 17:  # not 17 characters, or one that is no VIN character
        return None
    remainder = sum(v * w for v, w in zip(values, _WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def is_valid(vin: str) -> bool:
    vin = vin.upper()
    return check_digit(vin) == vin[8:9]
