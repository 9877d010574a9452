"""Identifier syntax and the canonical key: one pure function, checks in a fixed order, each with its own error.

Strict mode (default, as Chinese nodes enforce): at most 128 characters, exactly one '/', prefix segments of
A-Z a-z 0-9 joined by '.', suffix of A-Z a-z 0-9 . _ -. RFC mode: any printable UTF-8 suffix (RFC 3650), capped
in bytes by policy. NUL and control characters are always refused. Matching is case-insensitive for ASCII only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from registry.kernel.errors import (
    HandleControlCharacters,
    HandleEmpty,
    HandleExtraSlash,
    HandleMissingSlash,
    HandleTooLong,
    PrefixCharacters,
    PrefixEmpty,
    PrefixSegmentEmpty,
    SuffixCharacters,
    SuffixEmpty,
)

_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9]+")
_STRICT_SUFFIX = re.compile(r"[A-Za-z0-9._\-]+")
# Unicode categories Cc (C0, DEL, C1) and Cs (surrogates): never part of an identifier.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

Mode = Literal["strict", "rfc"]


@dataclass(frozen=True, slots=True)
class Identifier:
    handle: str  # as the client spelled it
    key: str  # canonical: ASCII lower-cased
    prefix: str
    suffix: str

    @property
    def prefix_key(self) -> str:
        return canonical(self.prefix)


def canonical(text: str) -> str:
    """Canonical form used for lookups: ASCII letters lower-cased, everything else unchanged."""
    return text.translate(_ASCII_LOWER)


def check_prefix(prefix: str) -> str:
    """Validate a prefix such as ``88.118.1042`` (or an NA prefix ``0.NA``); returns it unchanged."""
    if not prefix:
        raise PrefixEmpty()
    segments = prefix.split(".")
    for segment in segments:
        if not segment:
            raise PrefixSegmentEmpty(prefix)
        if not _PREFIX_SEGMENT.fullmatch(segment):
            raise PrefixCharacters(segment)
    return prefix


_STRICT_HANDLE = re.compile(r"([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)/([A-Za-z0-9._\-]+)")


def parse(handle: str, *, mode: Mode = "strict", max_length: int = 128, max_bytes_rfc: int = 255) -> Identifier:
    """Parse and validate an identifier ``prefix/suffix``; raises :class:`InvalidHandle` naming the broken rule."""
    if mode == "strict" and len(handle) <= max_length:
        match = _STRICT_HANDLE.fullmatch(handle)  # the common case in one step; errors are named below
        if match is not None:
            return Identifier(handle=handle, key=handle.translate(_ASCII_LOWER), prefix=match[1], suffix=match[2])
    if not isinstance(handle, str) or not handle:
        raise HandleEmpty()
    if _CONTROL.search(handle):
        raise HandleControlCharacters()
    if mode == "strict" and len(handle) > max_length:
        raise HandleTooLong(f"identifier is longer than {max_length} characters", limit=max_length)
    if mode == "rfc" and len(handle.encode("utf-8")) > max_bytes_rfc:
        raise HandleTooLong(f"identifier is longer than {max_bytes_rfc} bytes")
    if "/" not in handle:
        raise HandleMissingSlash()
    prefix, suffix = handle.split("/", 1)
    if mode == "strict" and "/" in suffix:
        raise HandleExtraSlash()
    check_prefix(prefix)
    if not suffix:
        raise SuffixEmpty()
    if mode == "strict" and not _STRICT_SUFFIX.fullmatch(suffix):
        raise SuffixCharacters("identifier suffix may contain only A-Z a-z 0-9 . _ -")
    if mode == "rfc" and not suffix.isprintable():
        raise SuffixCharacters("identifier suffix must be printable")
    return Identifier(handle=handle, key=canonical(handle), prefix=prefix, suffix=suffix)


NA_PREFIX_KEY = "0.na"


def na_handle(prefix: str) -> str:
    """The NA handle of a prefix: ``0.NA/<prefix>``."""
    return f"0.NA/{prefix}"


def governing_na_handle(ident: Identifier) -> str:
    """The NA handle whose HS_ADMIN values govern a record without its own: its prefix's, and for an NA handle
    (``0.NA/88.118.1042``) the one of the prefix it names, as the node administrator's 0.NA/<node prefix> does."""
    return na_handle(ident.suffix) if ident.prefix_key == NA_PREFIX_KEY else na_handle(ident.prefix)


def is_under(prefix_key: str, parent_key: str) -> bool:
    """True when ``prefix_key`` is ``parent_key`` or one of its derived prefixes."""
    return prefix_key == parent_key or prefix_key.startswith(parent_key + ".")
