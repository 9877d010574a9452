"""The Handle protocol's messages as the native face reads and answers them (RFC 3652 section 2, as Handle.Net 9
encodes them): requests read with every length checked, and the face's responses. The protocol's numbers and
layouts are ``foundation.handle_protocol``'s. This module knows no record, identity or store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faces.handle_native.errors import MessageMalformed
from foundation.handle_protocol import (
    ENV_COMPRESSED,
    ENV_ENCRYPTED,
    ENV_TRUNCATED,
    ENVELOPE,
    ENVELOPE_SIZE,
    HEADER,
    HEADER_SIZE,
    MAJOR,
    MAX_ARRAY,
    MAX_MESSAGE_LENGTH,
    MINOR,
    U32,
    text,
)


@dataclass(slots=True)
class Envelope:
    major: int
    minor: int
    flags: int
    suggest_major: int
    suggest_minor: int
    session_id: int
    request_id: int
    sequence: int
    length: int

    @property
    def answer_version(self) -> tuple[int, int]:
        """The version of the answer: the client's suggested version, capped at this server's (Handle.Net)."""
        return min((self.suggest_major, self.suggest_minor), (MAJOR, MINOR))

    @property
    def truncated(self) -> bool:
        return bool(self.flags & ENV_TRUNCATED)

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & ENV_ENCRYPTED)

    @property
    def compressed(self) -> bool:
        return bool(self.flags & ENV_COMPRESSED)


def read_envelope(data: bytes) -> Envelope:
    if len(data) < ENVELOPE_SIZE:
        raise MessageMalformed("the envelope is shorter than 20 octets")
    major, minor, flags, suggest_minor, session, request, sequence, length = ENVELOPE.unpack_from(data)
    suggest_major = flags & 0x03
    if suggest_major == 0:
        suggest_major, suggest_minor = major, minor
    if length > MAX_MESSAGE_LENGTH:
        raise MessageMalformed(f"the message length {length} is over {MAX_MESSAGE_LENGTH} octets")
    return Envelope(major, minor, flags & 0xFC, suggest_major, suggest_minor, session, request, sequence, length)


@dataclass(slots=True)
class Header:
    opcode: int
    response_code: int
    flags: int
    site_serial: int
    recursion: int
    expiration: int
    body_length: int


def read_header(message: bytes) -> Header:
    if len(message) < HEADER_SIZE:
        raise MessageMalformed("the message is shorter than its 24-octet header")
    header = Header(*HEADER.unpack_from(message))
    if header.body_length > len(message) - HEADER_SIZE:
        raise MessageMalformed("the body length is larger than the message")
    return header


class Reader:
    """Reads a request body; every length is checked against what is left, so a lying length is an error."""

    __slots__ = ("data", "offset")

    def __init__(self, data: bytes, offset: int = 0):
        self.data = data
        self.offset = offset

    def u32(self) -> int:
        if self.offset + 4 > len(self.data):
            raise MessageMalformed("the body ends inside an integer")
        (value,) = U32.unpack_from(self.data, self.offset)
        self.offset += 4
        return int(value)

    def u16(self) -> int:
        if self.offset + 2 > len(self.data):
            raise MessageMalformed("the body ends inside an integer")
        value = int.from_bytes(self.data[self.offset : self.offset + 2], "big")
        self.offset += 2
        return value

    def u8(self) -> int:
        if self.offset + 1 > len(self.data):
            raise MessageMalformed("the body ends inside an octet field")
        value = self.data[self.offset]
        self.offset += 1
        return value

    def octets(self) -> bytes:
        length = self.u32()
        if length > len(self.data) - self.offset:
            raise MessageMalformed("an octet string is longer than the body")
        value = self.data[self.offset : self.offset + length]
        self.offset += length
        return bytes(value)

    def text(self) -> str:
        raw = self.octets()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MessageMalformed("a string is not UTF-8") from None

    def count(self) -> int:
        n = self.u32()
        if n > MAX_ARRAY:
            raise MessageMalformed(f"a list of {n} entries is over the limit of {MAX_ARRAY}")
        return n

    def u32_list(self) -> list[int]:
        return [self.u32() for _ in range(self.count())]

    def text_list(self) -> list[str]:
        return [self.text() for _ in range(self.count())]


@dataclass(slots=True)
class Request:
    """One decoded request: its envelope, header, the exact header and body octets (for digests), and the body."""

    envelope: Envelope
    header: Header
    signed_part: bytes  # header + body, as received: what a request digest covers
    body: bytes
    credential: bytes
    source: str = ""  # the client's address, for the secret lock

    @property
    def opcode(self) -> int:
        return self.header.opcode

    def flag(self, mask: int) -> bool:
        return bool(self.header.flags & mask)


def read_message(envelope: Envelope, message: bytes) -> Request:
    """``message`` is the whole message after the envelope (reassembled when it came in several packets)."""
    if len(message) != envelope.length:
        raise MessageMalformed(f"the envelope announces {envelope.length} octets, {len(message)} arrived")
    header = read_header(message)
    end = HEADER_SIZE + header.body_length
    credential = Reader(message, end).octets() if end + 4 <= len(message) else b""
    return Request(envelope, header, message[:end], message[HEADER_SIZE:end], credential)


@dataclass(slots=True)
class Response:
    """What a handler answers: an opcode, a response code, the body after any request digest, and header flags."""

    opcode: int
    code: int
    body: bytes = b""
    flags: int = 0
    session_id: int | None = None  # None: the request's
    digest: tuple[int, bytes] | None = None  # a request digest the answer must carry (challenges always do)
    parts: list[bytes] = field(default_factory=list)  # further messages of a continued answer (list handles)
    actor: str = "anonymous"  # who the request acted as, for the audit log
    ready: tuple[str, Any, str] | None = None  # (record key, cache entry, prefix key): an answer worth keeping ready


def error_body(message: str) -> bytes:
    return text(message[:1024])
