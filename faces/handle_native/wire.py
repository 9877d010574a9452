"""The Handle protocol's messages on the wire (RFC 3652 section 2, as Handle.Net 9 encodes them).

A message is a 20-octet envelope, a 24-octet header, a body and a credential section. Integers are big-endian;
strings and octet arrays are a 4-octet length and the octets (UTF-8 for strings). This module reads requests and
writes responses; it knows no record, identity or store.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from faces.handle_native.errors import MessageMalformed

ENVELOPE_SIZE = 20
HEADER_SIZE = 24
MAX_MESSAGE_LENGTH = 262_144  # Handle.Net's Common.MAX_MESSAGE_LENGTH
MAX_ARRAY = 4096  # entries in one list of a request (indexes, types, values)
UDP_PACKET = 512  # Handle.Net's Common.MAX_UDP_PACKET_SIZE: every UDP packet carries at most 492 message octets
UDP_DATA = UDP_PACKET - ENVELOPE_SIZE

# Protocol versions: what this server speaks, and the oldest it answers in its own terms.
MAJOR, MINOR = 2, 11  # Handle.Net 9 (net.handle.hdllib.Common.MAJOR_VERSION/MINOR_VERSION)
OLDEST = (2, 1)  # RFC 3652; older clients (1.x, 2.0, "5.0") are refused with RC_PROTOCOL_ERROR

# Envelope flags (octet 2; its low two bits carry the suggested major version since Handle.Net 2.8)
ENV_COMPRESSED, ENV_ENCRYPTED, ENV_TRUNCATED = 0x80, 0x40, 0x20

# Opcodes (RFC 3652 section 2.2.2.1; Handle.Net AbstractMessage)
OC_RESOLUTION = 1
OC_GET_SITE_INFO = 2
OC_CREATE_HANDLE = 100
OC_DELETE_HANDLE = 101
OC_ADD_VALUE = 102
OC_REMOVE_VALUE = 103
OC_MODIFY_VALUE = 104
OC_LIST_HANDLES = 105
OC_LIST_NAS = 106  # RFC 3652
OC_LIST_HOMED_NAS = 302  # what Handle.Net clients send to list the prefixes a server serves
OC_CHALLENGE_RESPONSE = 200
OC_VERIFY_RESPONSE = 201
OC_SESSION_SETUP = 400
OC_SESSION_TERMINATE = 401
OC_SESSION_EXCHANGE_KEY = 402

# Response codes (RFC 3652 section 2.2.2.2)
RC_SUCCESS = 1
RC_ERROR = 2
RC_SERVER_BUSY = 3
RC_PROTOCOL_ERROR = 4
RC_OPERATION_NOT_SUPPORTED = 5
RC_HANDLE_NOT_FOUND = 100
RC_HANDLE_ALREADY_EXISTS = 101
RC_INVALID_HANDLE = 102
RC_VALUES_NOT_FOUND = 200
RC_VALUE_ALREADY_EXISTS = 201
RC_INVALID_VALUE = 202
RC_SERVER_NOT_RESP = 301
RC_SERVICE_REFERRAL = 302
RC_NOT_AUTHORIZED = 400
RC_ACCESS_DENIED = 401
RC_AUTHENTICATION_NEEDED = 402
RC_AUTHENTICATION_FAILED = 403
RC_INVALID_CREDENTIAL = 404
RC_AUTHENTICATION_TIMEOUT = 405
RC_SESSION_FAILED = 501

# Header opFlags (RFC 3652 section 2.2.2.3, the upper octets as Handle.Net writes them)
AT, CT, ENC, REC, CA, CN, KA, PO = (1 << 31, 1 << 30, 1 << 29, 1 << 28, 1 << 27, 1 << 26, 1 << 25, 1 << 24)
RD, OVRW, MINT, DNRF = 1 << 23, 1 << 22, 1 << 21, 1 << 20

HASH_SHA1, HASH_SHA256 = 2, 3  # request digest algorithm codes

_U32 = struct.Struct(">I")
_ENVELOPE = struct.Struct(">BBBBIIII")
_HEADER = struct.Struct(">IIIHBxII")


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
    major, minor, flags, suggest_minor, session, request, sequence, length = _ENVELOPE.unpack_from(data)
    suggest_major = flags & 0x03
    if suggest_major == 0:
        suggest_major, suggest_minor = major, minor
    if length > MAX_MESSAGE_LENGTH:
        raise MessageMalformed(f"the message length {length} is over {MAX_MESSAGE_LENGTH} octets")
    return Envelope(major, minor, flags & 0xFC, suggest_major, suggest_minor, session, request, sequence, length)


def envelope_bytes(
    major: int, minor: int, flags: int, session_id: int, request_id: int, sequence: int, length: int
) -> bytes:
    # the server suggests its own version in the flag octet's low bits and the next octet (Handle.Net 2.8+)
    return _ENVELOPE.pack(major, minor, flags | MAJOR, MINOR, session_id, request_id, sequence, length)


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
    header = Header(*_HEADER.unpack_from(message))
    if header.body_length > len(message) - HEADER_SIZE:
        raise MessageMalformed("the body length is larger than the message")
    return header


def header_bytes(opcode: int, response_code: int, flags: int, body_length: int, expiration: int = 0) -> bytes:
    return _HEADER.pack(opcode, response_code, flags, 0, 0, expiration, body_length)


class Reader:
    """Reads a request body; every length is checked against what is left, so a lying length is an error."""

    __slots__ = ("data", "offset")

    def __init__(self, data: bytes, offset: int = 0):
        self.data = data
        self.offset = offset

    def u32(self) -> int:
        if self.offset + 4 > len(self.data):
            raise MessageMalformed("the body ends inside an integer")
        (value,) = _U32.unpack_from(self.data, self.offset)
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


def u32(value: int) -> bytes:
    return _U32.pack(value)


def octets(value: bytes) -> bytes:
    return _U32.pack(len(value)) + value


def text(value: str) -> bytes:
    return octets(value.encode("utf-8"))


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
