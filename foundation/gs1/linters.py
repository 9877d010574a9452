"""The GS1 Barcode Syntax Tests ("linters") that the syntax dictionary names for a component, as GS1's reference
implementations (``src/lint_*.c`` of gs1/gs1-syntax-dictionary) define them. Each takes the component's text and
answers None when it passes, else why not.

Linters that need a code list (``iso3166``, ``iso4217``, ``iban``, ``mediatype``, ``packagetype``, ``importeridx``,
``couponcode``, ``couponposoffer``) are not applied: those AIs are checked for character set and length only. None
of them is a key or a key qualifier. ``gcppos1``/``gcppos2`` check the shape of the GS1 Company Prefix position (four
digits); whether a company prefix was allocated needs GS1's registry, which the node does not consult (its own
declarations are checked elsewhere).
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable

from foundation.gs1.checkdigits import CSET82, check_pair, mod10

Linter = Callable[[str], str | None]

_CSET39 = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CSET64 = frozenset("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_CSET82 = frozenset(CSET82)
_GCP_MIN_LENGTH = 4
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _digits(data: str) -> bool:
    return all("0" <= c <= "9" for c in data)


def csetnumeric(data: str) -> str | None:
    return None if _digits(data) else "digits only"


def cset82(data: str) -> str | None:
    bad = next((c for c in data if c not in _CSET82), None)
    return None if bad is None else f"character {bad!r} is outside GS1 character set 82"


def cset39(data: str) -> str | None:
    bad = next((c for c in data if c not in _CSET39), None)
    return None if bad is None else f"character {bad!r} is outside GS1 character set 39"


def cset64(data: str) -> str | None:
    body = data.rstrip("=")
    pads = len(data) - len(body)
    if pads > 2 or (pads and len(data) % 3):
        return "bad base64url padding"
    bad = next((c for c in body if c not in _CSET64), None)
    return None if bad is None else f"character {bad!r} is outside GS1 character set 64"


def csum(data: str) -> str | None:
    if not data:
        return "too short for a check digit"
    if not _digits(data):
        return "digits only"
    return None if mod10(data[:-1]) == data[-1] else f"wrong check digit: {data[-1]}, expected {mod10(data[:-1])}"


def csumalpha(data: str) -> str | None:
    if len(data) < 2:
        return "too short for a check character pair"
    if len(data) > 99:
        return "too long for a check character pair"
    if cset82(data[:-2]):
        return cset82(data[:-2])
    expected = check_pair(data[:-2])
    return None if data[-2:] == expected else f"wrong check characters: {data[-2:]}, expected {expected}"


def gcppos1(data: str) -> str | None:
    if len(data) < _GCP_MIN_LENGTH:
        return "too short for a GS1 Company Prefix"
    return None if _digits(data[:_GCP_MIN_LENGTH]) else "a GS1 Company Prefix begins with four digits"


def gcppos2(data: str) -> str | None:
    return "too short for a GS1 Company Prefix" if len(data) < 2 else gcppos1(data[1:])


def zero(data: str) -> str | None:
    return None if data and set(data) == {"0"} else "must be zero"


def nonzero(data: str) -> str | None:
    if not _digits(data):
        return "digits only"
    return None if data.strip("0") else "must not be zero"


def nozeroprefix(data: str) -> str | None:
    if data.startswith("0"):
        return "must not begin with zero"
    return None if _digits(data) else "digits only"


def hasnondigit(data: str) -> str | None:
    return None if not _digits(data) else "needs a character other than a digit"


def hyphen(data: str) -> str | None:
    return None if data and set(data) == {"-"} else "must be hyphens"


def yesno(data: str) -> str | None:
    return None if data in ("0", "1") else "must be 0 or 1"


def winding(data: str) -> str | None:
    return None if data in ("0", "1", "9") else "winding direction must be 0, 1 or 9"


def iso5218(data: str) -> str | None:
    return None if data in ("0", "1", "2", "9") else "sex code must be 0, 1, 2 or 9 (ISO/IEC 5218)"


def _bounded(data: str, length: int, limit: int, what: str) -> str | None:
    if len(data) != length or not _digits(data):
        return f"{what} must be {length} digits"
    return None if int(data) <= limit else f"{what} out of range"


def latitude(data: str) -> str | None:
    return _bounded(data, 10, 1_800_000_000, "latitude")


def longitude(data: str) -> str | None:
    return _bounded(data, 10, 3_600_000_000, "longitude")


def hh(data: str) -> str | None:
    return _bounded(data, 2, 23, "hour")


def mi(data: str) -> str | None:
    return _bounded(data, 2, 59, "minute")


def ss(data: str) -> str | None:
    return _bounded(data, 2, 59, "second")


def hhmi(data: str) -> str | None:
    if len(data) != 4:
        return "hour and minute must be 4 digits"
    return hh(data[:2]) or mi(data[2:])


def _full_date(data: str, day_zero: bool) -> str | None:
    if len(data) != 8 or not _digits(data):
        return "date must be 8 digits"
    year, month, day = int(data[:4]), int(data[4:6]), int(data[6:])
    if not 1 <= month <= 12:
        return "illegal month"
    if day > calendar.monthrange(year, month)[1] or (day == 0 and not day_zero):
        return "illegal day"
    return None


def _century(yy: int) -> int:
    """GS1 General Specifications §7.12: a two-digit year is within 49 years behind and 50 ahead of this year."""
    current = datetime.date.today().year
    difference = yy - current % 100
    if difference >= 51:
        return current // 100 - 1
    if difference > -50:
        return current // 100
    return current // 100 + 1


def _short_date(data: str, day_zero: bool) -> str | None:
    if len(data) != 6 or not _digits(data):
        return "date must be 6 digits"
    return _full_date(f"{_century(int(data[:2])):02d}{data}", day_zero)


def yyyymmdd(data: str) -> str | None:
    return _full_date(data, day_zero=False)


def yyyymmd0(data: str) -> str | None:
    return _full_date(data, day_zero=True)


def yymmdd(data: str) -> str | None:
    return _short_date(data, day_zero=False)


def yymmd0(data: str) -> str | None:
    return _short_date(data, day_zero=True)


def pcenc(data: str) -> str | None:
    return "malformed percent-encoding" if _PERCENT.search(data) else None


def pieceoftotal(data: str) -> str | None:
    if not data or len(data) % 2 or not _digits(data):
        return "piece and total must be digits of equal length"
    piece, total = data[: len(data) // 2], data[len(data) // 2 :]
    if not piece.strip("0") or not total.strip("0"):
        return "piece and total must not be zero"
    return None if piece <= total else "piece number exceeds the total"


def posinseqslash(data: str) -> str | None:
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", data)
    if match is None:
        return "position in sequence must be N/M"
    position, end = match.groups()
    if position.startswith("0") or end.startswith("0"):
        return "no zero prefix in a position in sequence"
    return None if int(position) <= int(end) else "position exceeds the end of the sequence"


LINTERS: dict[str, Linter] = {
    f.__name__: f
    for f in (
        csetnumeric, cset82, cset39, cset64, csum, csumalpha, gcppos1, gcppos2, zero, nonzero, nozeroprefix,
        hasnondigit, hyphen, yesno, winding, iso5218, latitude, longitude, hh, mi, ss, hhmi,
        yyyymmdd, yyyymmd0, yymmdd, yymmd0, pcenc, pieceoftotal, posinseqslash,
    )
}  # fmt: skip
CHARSET_LINTERS: dict[str, Linter] = {"N": csetnumeric, "X": cset82, "Y": cset39, "Z": cset64}
