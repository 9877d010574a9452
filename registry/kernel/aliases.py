"""Aliases: keys of other schemes that name a record, held as ``ALIAS`` values of the record.

Data format (ADR 0016): ``{"index": i, "type": "ALIAS", "data": {"format": "string", "value": "<scheme>:<key>"}}``.

| scheme | key as written | canonical (the index's ``value_key``) |
|---|---|---|
| ``gs1`` | an element string ``(01)09520123456788(21)1``, a Digital Link URI, an EPC URN | its element string |
| ``ecode`` | an Ecode (GB/T 31866): version digit, then the code | as written, letters upper-cased |
| ``oid`` | dotted decimal (ITU-T X.660) ``1.2.156.…`` | as written |
| anything else (``[a-z][a-z0-9+.-]*``) | printable text | as written |

A GS1 key's element string has the key and its qualifiers (GTIN-8/12/13 padded to 14 digits).

A Digital Link URI (``https://…/01/…``) and an EPC URN (``urn:epc:…``) may also stand alone, without ``gs1:``.
Parsing is pure; the write path (``registry.handles``) adds the rules that need the database: one handle per key,
and GS1 keys only under an approved GS1 company prefix of the record's enterprise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from foundation.gs1.digital_link import parse_digital_link
from foundation.gs1.epc import key_from_epc_urn
from foundation.gs1.errors import GS1Invalid
from foundation.gs1.keys import GS1Key, make_key
from registry.kernel.errors import BadAlias
from registry.kernel.values import Value

ALIAS_TYPE = "ALIAS"
MAX_ALIAS_CHARS = 512
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{0,31}$")
_ELEMENT = re.compile(r"\(([0-9]{2,4})\)([^()]*)")
_OID = re.compile(r"^(0|1|2)(\.(0|[1-9][0-9]*))+$")
# GB/T 31866 Ecode: a version digit, then the code. Versions 0 and 1 are digits only, 2 and 3 digits and upper-case
# letters, 4 any printable text; the lengths are those of the standard's table for each version.
_ECODE = {
    "0": re.compile(r"^0[0-9]{24}$"),
    "1": re.compile(r"^1[0-9]{33}$"),
    "2": re.compile(r"^2[0-9]{4}[0-9A-Z]{28}$"),
    "3": re.compile(r"^3[0-9]{4}[0-9A-Z]{1,34}$"),
    "4": re.compile(r"^4[0-9]{4}[^\x00-\x1f\x7f]{1,250}$"),
}


@dataclass(frozen=True)
class Alias:
    """A parsed alias: its scheme, its canonical key (the index's), and the GS1 key for ``gs1``."""

    scheme: str
    key: str
    gs1: GS1Key | None = None

    @property
    def text(self) -> str:
        return f"{self.scheme}:{self.key}"


def _gs1_from_element_string(text: str) -> GS1Key:
    elements = _ELEMENT.findall(text)
    if not elements or "".join(f"({ai}){value}" for ai, value in elements) != text:
        raise BadAlias(f"gs1:{text[:80]}: not a GS1 element string, Digital Link URI or EPC URN")
    (ai, value), *qualifiers = elements
    return make_key(ai, value, qualifiers)


def parse_gs1(text: str) -> GS1Key:
    """A GS1 key from an element string, a Digital Link URI or an EPC URN (what a scanner or an EPCIS event
    gives)."""
    if text.startswith(("http://", "https://")):
        return parse_digital_link(text).key
    if text.lower().startswith("urn:epc:"):
        return key_from_epc_urn(text)
    return _gs1_from_element_string(text)


def parse_alias(text: str) -> Alias:
    """Validate an alias written as ``scheme:key`` (or a bare Digital Link URI or EPC URN); BadAlias or a GS1 error
    says why one is refused."""
    if not isinstance(text, str) or not text:
        raise BadAlias("an alias is a non-empty string scheme:key")
    if len(text) > MAX_ALIAS_CHARS:
        raise BadAlias(f"an alias is at most {MAX_ALIAS_CHARS} characters")
    if any(c < " " or c == "\x7f" for c in text):
        raise BadAlias("an alias holds no control characters")
    if text.startswith(("http://", "https://")) or text.lower().startswith("urn:epc:"):
        scheme, key = "gs1", text
    else:
        scheme, _, key = text.partition(":")
        scheme = scheme.lower()
    if not _SCHEME.match(scheme) or not key:
        raise BadAlias(f"{text[:80]}: an alias is scheme:key, the scheme lower-case letters, digits and +.-")
    if scheme == "gs1":
        try:
            gs1 = parse_gs1(key)
        except GS1Invalid as error:
            raise BadAlias(f"gs1 alias {key[:80]}: {error.message}") from None
        return Alias("gs1", gs1.canonical, gs1)
    if scheme == "ecode":
        code = key.upper() if key[:1] in "0123" else key
        pattern = _ECODE.get(key[:1])
        if pattern is None or not pattern.match(code):
            raise BadAlias(f"ecode:{key[:80]}: not an Ecode of GB/T 31866 (version 0-4 and the length it sets)")
        return Alias("ecode", code)
    if scheme == "oid":
        arcs = key.split(".")
        if not _OID.match(key) or (arcs[0] in "01" and int(arcs[1]) > 39):
            raise BadAlias(f"oid:{key[:80]}: not an OID in dotted decimal (ITU-T X.660)")
        return Alias("oid", key)
    if not key.isprintable():
        raise BadAlias(f"{scheme}:{key[:80]}: an alias key is printable text")
    return Alias(scheme, key)


def aliases_of(values: list[Value]) -> list[tuple[int, Alias]]:
    """The ``ALIAS`` values of a record, parsed (index, alias); BadAlias for a malformed one or a key given twice."""
    found: list[tuple[int, Alias]] = []
    seen: set[tuple[str, str]] = set()
    for value in values:
        if value.get("type") != ALIAS_TYPE:
            continue
        data = value.get("data")
        if not isinstance(data, dict) or data.get("format") != "string":
            raise BadAlias(
                f'the ALIAS value at index {value["index"]} is {{"format": "string", "value": "scheme:key"}}'
            )
        alias = parse_alias(data.get("value"))  # type: ignore[arg-type]
        if (alias.scheme, alias.key) in seen:
            raise BadAlias(f"{alias.text[:80]} is given twice in one record")
        seen.add((alias.scheme, alias.key))
        found.append((value["index"], alias))
    return found
