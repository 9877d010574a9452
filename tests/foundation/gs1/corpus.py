"""A seeded corpus of valid GS1 keys, qualifiers and data attributes, over every primary key the tests compare with
the outside oracles."""

import random

from foundation.gs1.checkdigits import CSET82, check_pair, mod10
from foundation.gs1.keys import GS1Key, make_key


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def with_check(body: str) -> str:
    return body + mod10(body)


def text82(rng: random.Random, low: int, high: int, alphabet: str = CSET82) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def company_prefix(rng: random.Random) -> str:
    return str(rng.randint(1, 9)) + digits(rng, rng.randint(5, 11))


def gtin(rng: random.Random) -> str:
    return with_check(digits(rng, 13))


# GS1's Digital Link toolkit (GS1DigitalLinkToolkit.js) predates the GMN as a Digital Link key and leaves ":;<=>?"
# out of its pattern for set 82, which GS1's syntax dictionary and General Specifications include: the corpus it is
# compared with keeps to what both accept.
TOOLKIT_ALPHABET = "".join(c for c in CSET82 if c not in ":;<=>?")
KINDS = ("gtin", "gtin", "gtin", "sscc", "gln", "grai", "giai", "gsrn", "gdti", "gsin", "itip", "gmn", "tpx")
TOOLKIT_KINDS = tuple(k for k in KINDS if k not in ("gmn", "tpx"))  # both newer than the toolkit's table


def key(rng: random.Random, alphabet: str = CSET82, kinds: tuple[str, ...] = KINDS) -> GS1Key:
    """One valid key of a kind chosen at random."""
    kind = rng.choice(kinds)
    if kind == "tpx":
        return make_key("01", gtin(rng), [("235", text82(rng, 1, 28, alphabet))])
    if kind == "gtin":
        qualifiers = [(ai, text82(rng, 1, 20, alphabet)) for ai in ("22", "10", "21") if rng.random() < 0.5]
        return make_key("01", gtin(rng), qualifiers)
    if kind == "sscc":
        return make_key("00", with_check(digits(rng, 17)))
    if kind == "gln":
        extension = [("254", text82(rng, 1, 20, alphabet))] if rng.random() < 0.5 else []
        return make_key("414", with_check(digits(rng, 12)), extension)
    if kind == "grai":
        serial = text82(rng, 0, 16, alphabet)
        return make_key("8003", "0" + with_check(digits(rng, 12)) + serial)
    if kind == "giai":
        return make_key("8004", digits(rng, 4) + text82(rng, 1, 26, alphabet))
    if kind == "gsrn":
        return make_key(rng.choice(["8017", "8018"]), with_check(digits(rng, 17)))
    if kind == "gdti":
        return make_key("253", with_check(digits(rng, 12)) + text82(rng, 0, 17, alphabet))
    if kind == "gsin":
        return make_key("402", with_check(digits(rng, 16)))
    if kind == "itip":
        piece = rng.randint(1, 98)
        return make_key("8006", gtin(rng) + f"{piece:02d}{rng.randint(piece, 99):02d}")
    body = digits(rng, 4) + text82(rng, 1, 19, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return make_key("8013", body + check_pair(body))


def attributes(rng: random.Random, key: GS1Key) -> tuple[tuple[str, str], ...]:
    """Data attributes a GTIN may carry in the query string (dates, a net weight)."""
    if key.ai != "01":
        return ()
    chosen = []
    if rng.random() < 0.4:
        chosen.append(("17", f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"))
    if rng.random() < 0.3:
        chosen.append(("3103", digits(rng, 6)))
    return tuple(chosen)
