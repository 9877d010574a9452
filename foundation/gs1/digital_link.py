"""GS1 Digital Link URIs (GS1 Digital Link URI Syntax 1.2+, §4–§6; the compressed form of §9 is read too, by
``foundation.gs1.compression``).

``https://example.com[/any/path/prefix]/01/09520123456788/10/ABC%2F1/21/12345?17=201225&linkType=gs1:pip``

The key and its qualifiers are the trailing path segments, in pairs (AI, value); whatever stands before the primary
key is the URI stem's own path. Data attributes are AIs in the query string (only those the syntax dictionary marks
as Digital Link attributes; a key qualifier belongs in the path). Everything else in the query (``linkType``,
``context``, an application's own parameters) is kept in order, untouched.

Values are percent-decoded once; an AI segment must be digits as written (``%30%31`` is not ``01``). When writing a
URI, every character of a value other than letters, digits and ``-._~`` is percent-encoded, so the result is the
same whatever spelling was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from foundation.gs1.compression import BASE64URL, decompress
from foundation.gs1.elements import application_identifier, check_combination, check_value
from foundation.gs1.errors import BadDigitalLink, GS1Invalid
from foundation.gs1.keys import GS1Key, make_key, normalise_value

CANONICAL_STEM = "https://id.gs1.org"
MAX_URI_LENGTH = 8192  # far beyond any key (the longest key and qualifiers take a few hundred characters)
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


@dataclass(frozen=True)
class DigitalLink:
    """A parsed Digital Link: the stem it was served from, the key, data attributes and the other parameters."""

    key: GS1Key
    stem: str = CANONICAL_STEM
    attributes: tuple[tuple[str, str], ...] = ()
    other: tuple[tuple[str, str], ...] = field(default=())

    def parameter(self, name: str) -> str | None:
        return next((value for key, value in self.other if key == name), None)

    @property
    def uri(self) -> str:
        """This link written out, values percent-encoded, attributes and parameters in the order read."""
        return digital_link_uri(self.key, self.stem, self.attributes, self.other)

    @property
    def canonical_uri(self) -> str:
        """GS1's canonical form: ``https://id.gs1.org``, the key and its qualifiers, nothing else."""
        return digital_link_uri(self.key)


def encode(value: str) -> str:
    """Percent-encode a value for a Digital Link path or query: all but letters, digits and ``-._~``."""
    return quote(value, safe="")


def _encode_other(text: str) -> str:
    """A parameter that is not an AI (``linkType=gs1:pip``) keeps the characters a query may carry as they are."""
    return quote(text, safe=":/@!$'()*,;-._~")


def decode(text: str, what: str) -> str:
    """Percent-decode once, strictly: ``%`` must start two hex digits, and the bytes must be UTF-8."""
    if _BAD_PERCENT.search(text):
        raise BadDigitalLink(f"{what}: malformed percent-encoding")
    try:
        return _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), text).encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadDigitalLink(f"{what}: percent-encoding is not UTF-8") from None


def digital_link_uri(
    key: GS1Key,
    stem: str = CANONICAL_STEM,
    attributes: tuple[tuple[str, str], ...] = (),
    other: tuple[tuple[str, str], ...] = (),
) -> str:
    path = "".join(f"/{ai}/{encode(value)}" for ai, value in key.elements)
    query = "&".join(f"{ai}={encode(value)}" for ai, value in attributes)
    query_other = "&".join(f"{_encode_other(k)}={_encode_other(v)}" if v else _encode_other(k) for k, v in other)
    query = "&".join(q for q in (query, query_other) if q)
    return stem.rstrip("/") + path + (f"?{query}" if query else "")


def parse_key_path(path: str) -> tuple[GS1Key, str]:
    """The key at the end of a URI path, and the path before it (``/shop/01/…`` → key, ``/shop``)."""
    segments = path.split("/")
    if segments[0] != "":
        raise BadDigitalLink("the path must begin with /")
    segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash is tolerated
    pairs: list[tuple[str, str]] = []
    end = len(segments)
    while end >= 2:
        ai = segments[end - 2]
        if not (ai.isascii() and ai.isdigit() and 2 <= len(ai) <= 4):
            break
        entry = application_identifier(ai)
        pairs.insert(0, (ai, decode(segments[end - 1], f"({ai})")))
        end -= 2
        if entry.is_primary_key:
            break
    if not pairs or not application_identifier(pairs[0][0]).is_primary_key:
        raise BadDigitalLink("no GS1 primary key (such as /01/{gtin} or /00/{sscc}) at the end of the path")
    (ai, value), *qualifiers = pairs
    prefix = "/".join(segments[:end])
    return make_key(ai, value, qualifiers), (f"/{prefix}" if prefix else "")


def _query(text: str, key: GS1Key) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    attributes: list[tuple[str, str]] = []
    other: list[tuple[str, str]] = []
    qualifiers = application_identifier(key.ai).qualifiers
    for item in text.split("&") if text else ():
        if not item:
            continue
        raw_name, _, raw_value = item.partition("=")
        name = decode(raw_name, "query parameter name")
        if name.isascii() and name.isdigit():
            entry = application_identifier(name)
            if name in qualifiers or name == key.ai:
                raise BadDigitalLink(f"({name}) belongs in the path of a ({key.ai}) link, not in the query", ai=name)
            if not entry.dl_attribute:
                raise BadDigitalLink(f"({name}) is not a GS1 Digital Link data attribute", ai=name)
            value = normalise_value(name, decode(raw_value, f"({name})"))
            check_value(name, value)
            attributes.append((name, value))
        else:
            other.append((name, decode(raw_value, f"query parameter {name[:32]}")))
    return tuple(attributes), tuple(other)


def _from_elements(
    elements: list[tuple[str, str]], other: list[tuple[str, str]], stem: str
) -> tuple[GS1Key, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Key, attributes and parameters of a decompressed link: its one primary key, the qualifiers that key takes
    (put in the key's order), every other AI a data attribute."""
    primary = [(ai, v) for ai, v in elements if application_identifier(ai).is_primary_key]
    if not primary:
        raise BadDigitalLink("the compressed Digital Link holds no GS1 primary key")
    ai, value = primary[0]
    entry = application_identifier(ai)
    sequence = next(
        (seq for seq in entry.dl_qualifiers or () if all(q in seq for q, _ in elements if q in entry.qualifiers)), ()
    )
    qualifiers = sorted(((q, v) for q, v in elements if q in entry.qualifiers), key=lambda qv: sequence.index(qv[0]))
    attributes = []
    for name, text in elements:
        if (name, text) == (ai, value) or name in entry.qualifiers:
            continue
        if not application_identifier(name).dl_attribute:
            raise BadDigitalLink(f"({name}) is not a GS1 Digital Link data attribute", ai=name)
        check_value(name, text)
        attributes.append((name, normalise_value(name, text)))
    return make_key(ai, value, qualifiers), tuple(attributes), tuple(other)


def parse_compressed(uri: str) -> DigitalLink:
    """A compressed GS1 Digital Link URI (its last path segment base64url-packed AIs, §9 of the standard), read into
    the same DigitalLink as its uncompressed form. The query string's parameters follow the packed ones."""
    parts = urlsplit(uri)
    head, _, segment = parts.path.rpartition("/")
    elements, packed_other = decompress(segment)
    key, attributes, other = _from_elements(elements, packed_other, head)
    _, query_other = _query(parts.query, key)
    check_combination([ai for ai, _ in key.elements] + [ai for ai, _ in attributes])
    return DigitalLink(key, f"{parts.scheme.lower()}://{parts.netloc.lower()}{head}", attributes, other + query_other)


def is_compressed_segment(segment: str) -> bool:
    """Whether a path segment may be a compressed Digital Link (base64url, not all digits, 8 characters or more)."""
    return len(segment) >= 8 and all(c in BASE64URL for c in segment) and not segment.isdigit()


def _is_compressed(path: str) -> bool:
    return is_compressed_segment(path.rstrip("/").rpartition("/")[2])


def parse_digital_link(uri: str) -> DigitalLink:
    """Parse and validate an uncompressed GS1 Digital Link URI; BadDigitalLink (or another GS1 error naming the AI)
    says why one is refused."""
    if len(uri) > MAX_URI_LENGTH:
        raise BadDigitalLink(f"longer than {MAX_URI_LENGTH} characters")
    if not uri.isascii() or any(c <= " " or c == "\x7f" for c in uri):
        raise BadDigitalLink("a URI is printable ASCII without spaces (percent-encode the rest)")
    try:
        parts = urlsplit(uri)
    except ValueError as error:
        raise BadDigitalLink(f"not a URI: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not _HOST.match(parts.netloc):
        raise BadDigitalLink("a GS1 Digital Link is an http or https URI with a host name")
    try:
        key, prefix = parse_key_path(parts.path)
    except BadDigitalLink:
        if not _is_compressed(parts.path):
            raise
        return parse_compressed(uri)
    attributes, other = _query(parts.query, key)
    check_combination([ai for ai, _ in key.elements] + [ai for ai, _ in attributes])
    return DigitalLink(key, f"{parts.scheme.lower()}://{parts.netloc.lower()}{prefix}", attributes, other)


def is_digital_link(text: str) -> bool:
    """True when ``text`` parses as a GS1 Digital Link (for callers that try several schemes in turn)."""
    try:
        parse_digital_link(text)
    except GS1Invalid:
        return False
    return True
