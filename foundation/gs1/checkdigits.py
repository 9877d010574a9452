"""GS1 check digits: the modulo-10 digit of GTIN, SSCC, GLN, GRAI, GSIN, GSRN… and the alphanumeric check
character pair of GMN and CPID (GS1 General Specifications §7.9; the pair's algorithm as in GS1's
``lint_csumalpha.c``)."""

from __future__ import annotations

# GS1 character set 82 in the order that weighs each character for the check pair
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CHECK_PAIR_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_PRIMES = (
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199,
    211, 223, 227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293, 307, 311, 313, 317, 331,
    337, 347, 349, 353, 359, 367, 373, 379, 383, 389, 397, 401, 409, 419, 421, 431, 433, 439, 443, 449, 457,
    461, 463, 467, 479, 487, 491, 499, 503, 509,
)  # fmt: skip


def mod10(digits: str) -> str:
    """The check digit to append to ``digits``: weights 3 and 1 alternate from the rightmost digit leftwards."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def has_valid_mod10(digits: str) -> bool:
    """True when the last digit checks the ones before it (ASCII digits only, at least two)."""
    return len(digits) >= 2 and digits.isascii() and digits.isdigit() and mod10(digits[:-1]) == digits[-1]


def check_pair(text: str) -> str:
    """The two check characters to append to ``text`` (characters of set 82, at most 97 of them)."""
    if len(text) > len(_PRIMES):
        raise ValueError("too long for a check character pair")
    total = sum(CSET82.index(c) * _PRIMES[len(text) - 1 - i] for i, c in enumerate(text)) % 1021
    return _CHECK_PAIR_ALPHABET[total >> 5] + _CHECK_PAIR_ALPHABET[total & 31]
