"""The Handle protocol's numbers and octet layouts (RFC 3652 section 2, with the choices of Handle.Net 9), shared by
the native face (``faces.handle_native``) and the node's own client requests (the enterprise nodes' health check).

A message is a 20-octet envelope, a 24-octet header, a body and a credential section. Integers are big-endian;
strings and octet arrays are a 4-octet length and the octets (UTF-8 for strings).
"""

from __future__ import annotations

import struct

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

U32 = struct.Struct(">I")
ENVELOPE = struct.Struct(">BBBBIIII")  # major, minor, flags, suggested minor, session, request, sequence, length
HEADER = struct.Struct(">IIIHBxII")  # opcode, code, flags, site serial, recursion, (reserved), expiration, body length


def envelope_bytes(
    major: int, minor: int, flags: int, session_id: int, request_id: int, sequence: int, length: int
) -> bytes:
    # the server suggests its own version in the flag octet's low bits and the next octet (Handle.Net 2.8+)
    return ENVELOPE.pack(major, minor, flags | MAJOR, MINOR, session_id, request_id, sequence, length)


def header_bytes(
    opcode: int, response_code: int, flags: int, body_length: int, expiration: int = 0, site_serial: int = 0
) -> bytes:
    return HEADER.pack(opcode, response_code, flags, site_serial, 0, expiration, body_length)


def u32(value: int) -> bytes:
    return U32.pack(value)


def octets(value: bytes) -> bytes:
    return U32.pack(len(value)) + value


def text(value: str) -> bytes:
    return octets(value.encode("utf-8"))
