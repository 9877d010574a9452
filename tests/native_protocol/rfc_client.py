"""An independent Handle protocol client, written from the RFC text, for driving a server in tests.

It follows RFC 3652 (Handle System Protocol ver 2.1) and RFC 3651 (Handle System Namespace and Service
Definition), and, where those leave a detail open or Handle.Net 9 does something else, what the Handle.Net 9
Java client (``net.handle.hdllib``, release 9.2.0) does. Every such place says so in a comment naming its
source; ``PROTOCOL_NOTES.md`` next to this file lists the choices.

RFC 3652 sections followed:

* 2.1.1 / 2.1.4  network byte order; UTF8-String = 4-octet length + UTF-8 bytes
* 2.2.1  Message Envelope (20 octets)
* 2.2.2  Message Header (24 octets) and its OpCode / ResponseCode / OpFlag values
* 2.2.3  Message Body, the request digest (RD) in response bodies
* 2.2.4  Message Credential (certified responses)
* 2.2.5  Message Fragmentation (UDP packets of at most 512 octets)
* 2.3.x  the bodies of query, error, referral, challenge, challenge-response and administration messages
* 3.x    the exchanges (resolution, administration, client authentication by challenge-response)

RFC 3651 section 3.2 gives the value data of HS_ADMIN, HS_SITE, HS_VLIST; Handle.Net's ``Encoder`` and
``Util`` give HS_PUBKEY data and fix the details listed in the notes.

Layout of this module: constants; value-data codecs; body codecs; low-level message builders (for malformed
input tests, every field settable); response decoding; authentication (challenge-response); the asyncio
``HandleClient``; raw transport helpers.

It uses only the standard library and ``cryptography``, and nothing from the project's packages.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import secrets
import socket
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa

# ---------------------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------------------

# The protocol version a Handle.Net 9 client speaks: net.handle.hdllib.Common.MAJOR_VERSION = 2,
# MINOR_VERSION = 11 (9.2.0). RFC 3652 itself is version 2.1. A Handle.Net client puts in the envelope the
# version from the server's HS_SITE, capped at 2.11, and always offers 2.11 as the "suggested" version; when
# it talks to an interface without knowing its site it sends 2.3 (Common.COMPATIBILITY_MINOR_VERSION) with
# 2.11 suggested (AbstractMessage, HandleResolver.getUdpPacketsForRequest).
MAJOR_VERSION = 2
MINOR_VERSION = 11
COMPATIBILITY_MINOR_VERSION = 3

ENVELOPE_SIZE = 20  # RFC 3652 2.2.1
HEADER_SIZE = 24  # RFC 3652 2.2.2
MAX_UDP_PACKET_SIZE = 512  # RFC 3652 2.2.5
MAX_UDP_DATA_SIZE = MAX_UDP_PACKET_SIZE - ENVELOPE_SIZE  # 492: Handle.Net Common.MAX_UDP_DATA_SIZE
MAX_MESSAGE_LENGTH = 262144  # Handle.Net Common.MAX_MESSAGE_LENGTH (the RFC sets no limit)
DEFAULT_PORT = 2641

# Envelope MessageFlag, first octet (RFC 3652 2.2.1): CP compressed, EC encrypted, TC truncated.
ENV_FLAG_CP = 0x80
ENV_FLAG_EC = 0x40
ENV_FLAG_TC = 0x20
# Handle.Net reuses the rest of the 2-octet MessageFlag: the low 2 bits of the first octet carry the
# "suggested" major version and the second octet the suggested minor version (Encoder.encodeEnvelope). A
# receiver that finds suggested major 0 takes the envelope's version instead (Encoder.decodeEnvelope).
ENV_SUGGEST_MAJOR_MASK = 0x03

# OpCodes (RFC 3652 2.2.2.1), plus the ones Handle.Net added (AbstractMessage).
OC_RESERVED = 0
OC_RESOLUTION = 1
OC_GET_SITEINFO = 2
OC_CREATE_HANDLE = 100
OC_DELETE_HANDLE = 101
OC_ADD_VALUE = 102
OC_REMOVE_VALUE = 103
OC_MODIFY_VALUE = 104
OC_LIST_HANDLE = 105
OC_LIST_NA = 106  # RFC 3652: "list sub-naming authorities"; Handle.Net 9 never sends it (see OC_LIST_HOMED_NAS)
OC_CHALLENGE_RESPONSE = 200
OC_VERIFY_RESPONSE = 201
OC_HOME_NA = 300  # Handle.Net
OC_UNHOME_NA = 301  # Handle.Net
OC_LIST_HOMED_NAS = 302  # Handle.Net ListNAsRequest: what a Handle.Net 9 client sends to list prefixes
OC_SESSION_SETUP = 400
OC_SESSION_TERMINATE = 401
OC_SESSION_EXCHANGEKEY = 402
OC_GET_NEXT_TXN_ID = 1000  # Handle.Net replication
OC_RETRIEVE_TXN_LOG = 1001
OC_DUMP_HANDLES = 1002
OC_BACKUP_SERVER = 1003
# Handle.Net's own names for the same numbers
OC_LIST_HANDLES = OC_LIST_HANDLE
OC_RESPONSE_TO_CHALLENGE = OC_CHALLENGE_RESPONSE
OC_VERIFY_CHALLENGE = OC_VERIFY_RESPONSE
OC_GET_SITE_INFO = OC_GET_SITEINFO

# ResponseCodes (RFC 3652 2.2.2.2), with Handle.Net's names (AbstractMessage) as aliases where they differ.
RC_RESERVED = 0
RC_SUCCESS = 1
RC_ERROR = 2
RC_SERVER_BUSY = 3
RC_PROTOCOL_ERROR = 4
RC_OPERATION_DENIED = 5
RC_RECUR_LIMIT_EXCEEDED = 6
RC_SERVER_BACKUP = 7  # Handle.Net only
RC_HANDLE_NOT_FOUND = 100
RC_HANDLE_ALREADY_EXIST = 101
RC_INVALID_HANDLE = 102
RC_VALUE_NOT_FOUND = 200
RC_VALUE_ALREADY_EXIST = 201
RC_VALUE_INVALID = 202
RC_EXPIRED_SITE_INFO = 300
RC_SERVER_NOT_RESP = 301
RC_SERVICE_REFERRAL = 302
RC_NA_DELEGATE = 303
RC_NOT_AUTHORIZED = 400
RC_ACCESS_DENIED = 401
RC_AUTHEN_NEEDED = 402
RC_AUTHEN_FAILED = 403
RC_INVALID_CREDENTIAL = 404
RC_AUTHEN_TIMEOUT = 405
RC_UNABLE_TO_AUTHEN = 406
RC_SESSION_TIMEOUT = 500
RC_SESSION_FAILED = 501
RC_NO_SESSION_KEY = 502
RC_SESSION_NO_SUPPORT = 503
RC_SESSION_KEY_INVALID = 504
RC_SESSION_MESSAGE_REJECTED = 505  # Handle.Net only
RC_TRYING = 900
RC_FORWARDED = 901
RC_QUEUED = 902
RC_SERVER_TOO_BUSY = RC_SERVER_BUSY
RC_OPERATION_NOT_SUPPORTED = RC_OPERATION_DENIED
RC_RECURSION_COUNT_TOO_HIGH = RC_RECUR_LIMIT_EXCEEDED
RC_HANDLE_ALREADY_EXISTS = RC_HANDLE_ALREADY_EXIST
RC_VALUES_NOT_FOUND = RC_VALUE_NOT_FOUND
RC_VALUE_ALREADY_EXISTS = RC_VALUE_ALREADY_EXIST
RC_INVALID_VALUE = RC_VALUE_INVALID
RC_OUT_OF_DATE_SITE_INFO = RC_EXPIRED_SITE_INFO
RC_PREFIX_REFERRAL = RC_NA_DELEGATE
RC_INVALID_ADMIN = RC_NOT_AUTHORIZED
RC_INSUFFICIENT_PERMISSIONS = RC_ACCESS_DENIED
RC_AUTHENTICATION_NEEDED = RC_AUTHEN_NEEDED
RC_AUTHENTICATION_FAILED = RC_AUTHEN_FAILED
RC_AUTHEN_ERROR = RC_UNABLE_TO_AUTHEN
RC_INVALID_SESSION_KEY = RC_NO_SESSION_KEY

# OpFlag bits (RFC 3652 2.2.2.3): bit 0 is the most significant bit of the 4-octet field. OVRW, MINT and
# DNRF are Handle.Net's (Encoder.MSG_FLAG_OVRW / _MINT / _DNRF).
OPFLAGS: dict[str, int] = {
    "AT": 0x80000000,  # authoritative
    "CT": 0x40000000,  # certified: sign the response
    "ENC": 0x20000000,  # encrypt the response
    "REC": 0x10000000,  # recursive
    "CA": 0x08000000,  # cache authentication
    "CN": 0x04000000,  # continuous: more messages follow
    "KC": 0x02000000,  # keep connection
    "PO": 0x01000000,  # public only
    "RD": 0x00800000,  # request digest in the response
    "OVRW": 0x00400000,  # Handle.Net: overwrite when exists (create / add value)
    "MINT": 0x00200000,  # Handle.Net: mint a new suffix (create)
    "DNRF": 0x00100000,  # Handle.Net: do not refer
}
# A Handle.Net request sets REC, CA and PO unless told otherwise (AbstractMessage: recursive = true,
# cacheCertify = true, ignoreRestrictedValues = true).
DEFAULT_REQUEST_FLAGS = {"REC": True, "CA": True, "PO": True}

# Request-digest algorithm identifiers (first octet of a RequestDigest, RFC 3652 2.2.3; Handle.Net
# Common.HASH_CODE_*). 0 is Handle.Net's "old format": a 4-octet length and an MD5 digest.
HASH_CODE_MD5_OLD_FORMAT = 0x00
HASH_CODE_MD5 = 0x01
HASH_CODE_SHA1 = 0x02
HASH_CODE_SHA256 = 0x03
HASH_CODE_HMAC_SHA1 = 0x12
HASH_CODE_HMAC_SHA256 = 0x13
HASH_CODE_PBKDF2_HMAC_SHA1 = 0x22
_DIGEST_SIZES = {HASH_CODE_MD5: 16, HASH_CODE_SHA1: 20, HASH_CODE_SHA256: 32}
_HASHLIB_NAMES = {
    HASH_CODE_MD5: "md5",
    HASH_CODE_MD5_OLD_FORMAT: "md5",
    HASH_CODE_SHA1: "sha1",
    HASH_CODE_SHA256: "sha256",
}

# Handle value permissions octet (RFC 3652 2.2.3 HandleValue "Permission"; Handle.Net Encoder.PERM_*).
PERM_ADMIN_READ = 0x08
PERM_ADMIN_WRITE = 0x04
PERM_PUBLIC_READ = 0x02
PERM_PUBLIC_WRITE = 0x01

# HS_ADMIN permission bits, as Handle.Net encodes them (Encoder.PERM_*). Handle.Net's AdminRecord index i is
# bit 1 << i, so the 12-character string Handle.Net shows (AdminRecord index 11 first, index 0 last:
# GsonUtility.permsArrayToString) read as a binary number is the 2-octet field on the wire.
# RFC 3651 3.2.1 lists Read_Value as 0x0080 and Modify/Remove/Add_Admin as 0x0100/0x0200/0x0400; Handle.Net
# uses 0x0400 for Read_Value and 0x0080/0x0100/0x0200 for the admin bits. This client follows Handle.Net.
ADMIN_PERMISSIONS: dict[str, int] = {
    "add_handle": 0x0001,
    "delete_handle": 0x0002,
    "add_derived_prefix": 0x0004,  # RFC: Add_NA
    "delete_derived_prefix": 0x0008,  # RFC: Delete_NA
    "modify_value": 0x0010,
    "remove_value": 0x0020,
    "add_value": 0x0040,
    "modify_admin": 0x0080,
    "remove_admin": 0x0100,
    "add_admin": 0x0200,
    "read_value": 0x0400,
    "list_handles": 0x0800,
}

# HS_SITE: primary flags octet and interface codes (RFC 3651 3.2.2; Handle.Net SiteInfo / Interface).
SITE_PRIMARY = 0x80
SITE_MULTI_PRIMARY = 0x40
HASH_BY_PREFIX = 0
HASH_BY_SUFFIX = 1
HASH_BY_ALL = 2
INTERFACE_PROTOCOLS = {0: "udp", 1: "tcp", 2: "http", 3: "https"}
INTERFACE_TYPES = {0: "out_of_service", 1: "admin", 2: "query", 3: "admin_and_query"}

# Public key encodings in HS_PUBKEY data (Handle.Net Common.KEY_ENCODING_*).
KEY_ENCODING_RSA_PUBLIC = "RSA_PUB_KEY"
KEY_ENCODING_DSA_PUBLIC = "DSA_PUB_KEY"
KEY_ENCODING_DH_PUBLIC = "DH_PUB_KEY"

# Credential types (Handle.Net Common.CREDENTIAL_TYPE_*)
CREDENTIAL_TYPE_SIGNED = "HS_SIGNED"
CREDENTIAL_TYPE_MAC = "HS_MAC"
CREDENTIAL_TYPE_OLDSIGNED = "HS_DSAPUBKEY"

# Handle.Net's PBKDF2 parameters for HS_SECKEY answers (Util.doPbkdf2HmacSHA1)
PBKDF2_SALT_SIZE = 16
PBKDF2_ITERATIONS = 10000
PBKDF2_KEY_LENGTH_BITS = 160

# Handle.Net default expiration of a message: twelve hours from now (AbstractMessage constructor)
DEFAULT_EXPIRATION_SECONDS = 43200
# Handle.Net sends SiteInfoSerialNumber -1 (0xFFFF on the wire) when it has no site information
# (AbstractMessage.siteInfoSerial = -1).
NO_SITE_INFO_SERIAL = 0xFFFF


class HandleProtocolError(Exception):
    """A message that does not decode, or an exchange that breaks the protocol."""


class HandleTimeout(TimeoutError):
    """No (complete) answer within the client's timeout."""


# ---------------------------------------------------------------------------------------------------------
# Primitive encoding (RFC 3652 2.1)
# ---------------------------------------------------------------------------------------------------------


def u8(n: int) -> bytes:
    return struct.pack(">B", n & 0xFF)


def u16(n: int) -> bytes:
    return struct.pack(">H", n & 0xFFFF)


def u32(n: int) -> bytes:
    """4-octet integer; negative numbers are written as Java would (two's complement)."""
    return struct.pack(">I", n & 0xFFFFFFFF)


def lbytes(data: bytes) -> bytes:
    """A 4-octet length followed by the bytes (RFC 3652 2.1.4 for UTF8-String, same layout for data)."""
    return u32(len(data)) + data


def utf8(text: str | bytes) -> bytes:
    """UTF8-String (RFC 3652 2.1.4)."""
    return lbytes(text.encode("utf-8") if isinstance(text, str) else text)


def utf8_list(items: Iterable[str | bytes]) -> bytes:
    items = list(items)
    return u32(len(items)) + b"".join(utf8(i) for i in items)


def int_list(items: Iterable[int]) -> bytes:
    items = list(items)
    return u32(len(items)) + b"".join(u32(i) for i in items)


class Reader:
    """Reads RFC 3652 primitives from a buffer, with bounds checks that raise HandleProtocolError."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise HandleProtocolError(f"need {n} octets at offset {self.pos}, only {self.remaining} left")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def i32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def lbytes(self) -> bytes:
        return self.take(self.u32())

    def utf8(self) -> str:
        raw = self.lbytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise HandleProtocolError(f"UTF8-String is not UTF-8: {raw!r}") from e

    def count(self, limit: int = 1048576) -> int:
        """An element count, refused above Handle.Net's Common.MAX_ARRAY_SIZE."""
        n = self.u32()
        if n > limit:
            raise HandleProtocolError(f"count {n} is above {limit}")
        return n

    def rest(self) -> bytes:
        return self.take(self.remaining)


# ---------------------------------------------------------------------------------------------------------
# Handle values (RFC 3652 2.2.3, "HandleValue")
# ---------------------------------------------------------------------------------------------------------


@dataclass
class HandleValue:
    index: int
    type: str
    data: bytes
    ttl: int = 86400
    ttl_type: int = 0  # 0: relative (seconds), 1: absolute (seconds since the epoch)
    timestamp: int = 0
    admin_read: bool = True
    admin_write: bool = True
    public_read: bool = True
    public_write: bool = False
    references: list[tuple[str, int]] = field(default_factory=list)

    @property
    def permissions(self) -> int:
        return (
            (PERM_ADMIN_READ if self.admin_read else 0)
            | (PERM_ADMIN_WRITE if self.admin_write else 0)
            | (PERM_PUBLIC_READ if self.public_read else 0)
            | (PERM_PUBLIC_WRITE if self.public_write else 0)
        )

    def text(self) -> str:
        return self.data.decode("utf-8")


def encode_value(value: HandleValue) -> bytes:
    """Index, Timestamp, TTLType, TTL, Permission, Type, Data, References (RFC 3652 2.2.3)."""
    refs = u32(len(value.references)) + b"".join(utf8(h) + u32(i) for h, i in value.references)
    return (
        u32(value.index)
        + u32(value.timestamp)
        + u8(value.ttl_type)
        + u32(value.ttl)
        + u8(value.permissions)
        + utf8(value.type)
        + lbytes(value.data)
        + refs
    )


def decode_value(reader: Reader) -> HandleValue:
    index = reader.i32()
    timestamp = reader.u32()
    ttl_type = reader.u8()
    ttl = reader.i32()
    perms = reader.u8()
    vtype = reader.utf8()
    data = reader.lbytes()
    refs = [(reader.utf8(), reader.i32()) for _ in range(reader.count())]
    return HandleValue(
        index=index,
        type=vtype,
        data=data,
        ttl=ttl,
        ttl_type=ttl_type,
        timestamp=timestamp,
        admin_read=bool(perms & PERM_ADMIN_READ),
        admin_write=bool(perms & PERM_ADMIN_WRITE),
        public_read=bool(perms & PERM_PUBLIC_READ),
        public_write=bool(perms & PERM_PUBLIC_WRITE),
        references=refs,
    )


def encode_values(values: Sequence[HandleValue]) -> bytes:
    return u32(len(values)) + b"".join(encode_value(v) for v in values)


def text_value(index: int, vtype: str, text: str, **kw: Any) -> HandleValue:
    return HandleValue(index=index, type=vtype, data=text.encode("utf-8"), **kw)


# ---------------------------------------------------------------------------------------------------------
# Value data: HS_ADMIN, HS_VLIST, HS_SITE, HS_PUBKEY
# ---------------------------------------------------------------------------------------------------------


def admin_permission_bits(permissions: str) -> int:
    """The 12-character permission string in Handle.Net's order (list_handles first, add_handle last)."""
    if len(permissions) != 12 or set(permissions) - {"0", "1"}:
        raise ValueError(f"want 12 characters of 0/1, got {permissions!r}")
    return int(permissions, 2)


def encode_admin(handle: str, index: int, permissions: str) -> bytes:
    """HS_ADMIN data: AdminPermission (2 octets), then AdminRef = handle (UTF8-String) and index (4 octets).

    RFC 3651 3.2.1; the field order and the bit values are Handle.Net's (Encoder.encodeAdminRecord).
    """
    return u16(admin_permission_bits(permissions)) + utf8(handle) + u32(index)


def decode_admin(data: bytes) -> dict[str, Any]:
    """Decode HS_ADMIN data. Handle.Net 7.3 and earlier added two zero octets at the end; accepted here."""
    r = Reader(data)
    bits = r.u16()
    handle = r.utf8()
    index = r.i32()
    legacy = r.remaining == 2
    if r.remaining and not legacy:
        raise HandleProtocolError(f"{r.remaining} octets left after HS_ADMIN data")
    return {
        "handle": handle,
        "index": index,
        "permissions": format(bits & 0x0FFF, "012b"),
        "bits": bits,
        "flags": {name: bool(bits & bit) for name, bit in ADMIN_PERMISSIONS.items()},
        "legacy_length": legacy,
    }


def encode_vlist(references: Sequence[tuple[str, int]]) -> bytes:
    """HS_VLIST data: a count, then (handle UTF8-String, index) pairs (RFC 3651 3.2.7; Handle.Net
    Encoder.encodeValueReferenceList)."""
    return u32(len(references)) + b"".join(utf8(h) + u32(i) for h, i in references)


def decode_vlist(data: bytes) -> list[tuple[str, int]]:
    r = Reader(data)
    refs = [(r.utf8(), r.i32()) for _ in range(r.count())]
    if r.remaining:
        raise HandleProtocolError(f"{r.remaining} octets left after HS_VLIST data")
    return refs


def _address_text(raw: bytes) -> str:
    # Handle.Net ServerInfo.isIPv4: an address whose first 12 octets are zero is IPv4 (the last 4 octets).
    if raw[:12] == bytes(12):
        return str(ipaddress.IPv4Address(raw[12:]))
    return str(ipaddress.IPv6Address(raw))


def _address_bytes(address: str) -> bytes:
    ip = ipaddress.ip_address(address)
    return bytes(12) + ip.packed if ip.version == 4 else ip.packed


def decode_site(data: bytes) -> dict[str, Any]:
    """HS_SITE data (RFC 3651 3.2.2; Handle.Net Encoder.decodeSiteInfoRecord).

    DataFormatVersion (2), ProtocolVersion (major 1, minor 1), SerialNumber (2), PrimaryMask (1),
    HashOption (1), HashFilter (UTF8-String), Attributes (count, then name and value UTF8-Strings),
    NumOfServer (4), then per server: ServerID (4), Address (16), PublicKeyRecord (4-octet length and
    HS_PUBKEY data), NumOfServiceInterface (4), then per interface: type (1), protocol (1), port (4).
    """
    r = Reader(data)
    out: dict[str, Any] = {"version": r.u16()}
    out["protocol_version"] = (r.u8(), r.u8())
    out["serial_number"] = r.u16()
    flags = r.u8()
    out["primary_flags"] = flags
    out["primary"] = bool(flags & SITE_PRIMARY)
    out["multi_primary"] = bool(flags & SITE_MULTI_PRIMARY)
    out["hash_option"] = r.u8()
    out["hash_filter"] = r.lbytes()
    attrs = []
    for _ in range(r.count()):
        name = r.utf8()
        attrs.append((name, r.utf8()))
    out["attributes"] = dict(attrs)
    out["attribute_list"] = attrs
    servers = []
    for _ in range(r.count()):
        server: dict[str, Any] = {"id": r.i32()}
        raw_address = r.take(16)
        server["address_bytes"] = raw_address
        server["address"] = _address_text(raw_address)
        key = r.lbytes()
        server["public_key"] = {"type": _key_type(key), "bytes": key}
        interfaces = []
        for _ in range(r.count()):
            itype = r.u8()
            proto = r.u8()
            interfaces.append(
                {
                    "type": itype,
                    "type_name": INTERFACE_TYPES.get(itype, str(itype)),
                    "protocol": INTERFACE_PROTOCOLS.get(proto, str(proto)),
                    "protocol_code": proto,
                    "port": r.i32(),
                }
            )
        server["interfaces"] = interfaces
        servers.append(server)
    out["servers"] = servers
    if r.remaining:
        # Handle.Net refuses these ("Unexpected data remaining after decoding")
        raise HandleProtocolError(f"{r.remaining} octets left after HS_SITE data")
    return out


def encode_site(site: dict[str, Any]) -> bytes:
    """The inverse of decode_site, for fakes and round-trip tests. Missing keys take Handle.Net defaults."""
    major, minor = site.get("protocol_version", (MAJOR_VERSION, MINOR_VERSION))
    flags = site.get("primary_flags")
    if flags is None:
        flags = (SITE_PRIMARY if site.get("primary", True) else 0) | (
            SITE_MULTI_PRIMARY if site.get("multi_primary", False) else 0
        )
    attrs = site.get("attribute_list") or list(site.get("attributes", {}).items())
    out = u16(site.get("version", 1)) + u8(major) + u8(minor) + u16(site.get("serial_number", 1))
    out += u8(flags) + u8(site.get("hash_option", HASH_BY_ALL)) + lbytes(site.get("hash_filter", b""))
    out += u32(len(attrs)) + b"".join(utf8(k) + utf8(v) for k, v in attrs)
    servers = site.get("servers", [])
    out += u32(len(servers))
    for s in servers:
        key = s.get("public_key", b"")
        key_bytes = key["bytes"] if isinstance(key, dict) else key
        out += u32(s.get("id", 1)) + _address_bytes(s.get("address", "127.0.0.1")) + lbytes(key_bytes)
        interfaces = s.get("interfaces", [])
        out += u32(len(interfaces))
        for i in interfaces:
            proto = i["protocol"]
            code = proto if isinstance(proto, int) else {v: k for k, v in INTERFACE_PROTOCOLS.items()}[proto]
            out += u8(i.get("type", 3)) + u8(code) + u32(i.get("port", DEFAULT_PORT))
    return out


def _java_bigint(n: int) -> bytes:
    """java.math.BigInteger.toByteArray() of a non-negative number: minimal two's complement, so a leading
    zero octet when the top bit is set. Handle.Net writes key numbers this way (Util.getBytesFromPublicKey)."""
    return n.to_bytes(n.bit_length() // 8 + 1, "big")


def _key_type(data: bytes) -> str | None:
    try:
        return Reader(data).utf8() if data else None
    except HandleProtocolError:
        return None


def encode_public_key(public_key: Any) -> bytes:
    """HS_PUBKEY data as Handle.Net 9 writes it (Util.getBytesFromPublicKey).

    RSA: "RSA_PUB_KEY", 2 reserved octets, exponent, modulus.
    DSA: "DSA_PUB_KEY", 2 reserved octets, q, p, g, y.
    Numbers are 4-octet-length-prefixed java BigInteger byte arrays. Handle.Net 9.2 defines no encoding for
    EC or Ed25519 keys, so neither does this client (ValueError).
    """
    if isinstance(public_key, (rsa.RSAPrivateKey, dsa.DSAPrivateKey)):
        public_key = public_key.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        nums = public_key.public_numbers()
        return utf8(KEY_ENCODING_RSA_PUBLIC) + u16(0) + lbytes(_java_bigint(nums.e)) + lbytes(_java_bigint(nums.n))
    if isinstance(public_key, dsa.DSAPublicKey):
        nums = public_key.public_numbers()
        p = nums.parameter_numbers
        return (
            utf8(KEY_ENCODING_DSA_PUBLIC)
            + u16(0)
            + lbytes(_java_bigint(p.q))
            + lbytes(_java_bigint(p.p))
            + lbytes(_java_bigint(p.g))
            + lbytes(_java_bigint(nums.y))
        )
    raise ValueError(f"Handle.Net 9 has no HS_PUBKEY encoding for {type(public_key).__name__}")


def decode_public_key(data: bytes) -> rsa.RSAPublicKey | dsa.DSAPublicKey:
    """Read HS_PUBKEY data (Util.getPublicKeyFromBytes): RSA_PUB_KEY or DSA_PUB_KEY."""
    r = Reader(data)
    key_type = r.utf8()
    r.u16()  # reserved
    if key_type == KEY_ENCODING_RSA_PUBLIC:
        e = int.from_bytes(r.lbytes(), "big")
        n = int.from_bytes(r.lbytes(), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if key_type == KEY_ENCODING_DSA_PUBLIC:
        q = int.from_bytes(r.lbytes(), "big")
        p = int.from_bytes(r.lbytes(), "big")
        g = int.from_bytes(r.lbytes(), "big")
        y = int.from_bytes(r.lbytes(), "big")
        return dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g)).public_key()
    raise ValueError(f"unsupported HS_PUBKEY key type {key_type!r}")


# ---------------------------------------------------------------------------------------------------------
# Message bodies (RFC 3652 2.3)
# ---------------------------------------------------------------------------------------------------------


def resolution_body(handle: str, types: Sequence[str] = (), indexes: Sequence[int] = ()) -> bytes:
    """Handle, IndexList, TypeList (RFC 3652 2.3.2; Handle.Net Encoder.encodeResolutionRequest)."""
    return utf8(handle) + int_list(indexes) + utf8_list(types)


def handle_body(handle: str) -> bytes:
    """A body of just a handle: delete handle, list handles, list NAs, get site info (RFC 3652 2.3.6, 2.3.7)."""
    return utf8(handle)


def values_body(handle: str, values: Sequence[HandleValue]) -> bytes:
    """Handle, ValueList: create handle, add value, modify value (RFC 3652 2.3.6)."""
    return utf8(handle) + encode_values(values)


def remove_values_body(handle: str, indexes: Sequence[int]) -> bytes:
    """Handle, IndexList (RFC 3652 2.3.6.4)."""
    return utf8(handle) + int_list(indexes)


def challenge_answer_body(auth_type: str, key_handle: str, key_index: int, answer: bytes) -> bytes:
    """AuthenticationType, KeyHandle, KeyIndex, ChallengeResponse (RFC 3652 2.3.5;
    Handle.Net Encoder.encodeChallengeAnswer)."""
    return utf8(auth_type) + utf8(key_handle) + u32(key_index) + lbytes(answer)


# ---------------------------------------------------------------------------------------------------------
# Low-level message builders: every field settable, lengths may lie (for malformed-input tests)
# ---------------------------------------------------------------------------------------------------------


def opflags(flags: int | dict[str, bool] | None = None, **named: bool) -> int:
    """OpFlag as an int, from an int, a {"AT": True, ...} dict and/or keyword flags."""
    value = 0
    if isinstance(flags, int):
        value = flags
    elif flags:
        named = {**flags, **named}
    for name, on in named.items():
        bit = OPFLAGS[name.upper()]
        value = (value | bit) if on else (value & ~bit)
    return value & 0xFFFFFFFF


def flags_from_int(value: int) -> dict[str, bool]:
    return {name: bool(value & bit) for name, bit in OPFLAGS.items()}


def envelope(
    *,
    major: int = MAJOR_VERSION,
    minor: int = MINOR_VERSION,
    message_length: int,
    request_id: int = 1,
    session_id: int = 0,
    sequence: int = 0,
    compressed: bool = False,
    encrypted: bool = False,
    truncated: bool = False,
    suggest_major: int | None = MAJOR_VERSION,
    suggest_minor: int | None = MINOR_VERSION,
    flag_octets: bytes | None = None,
) -> bytes:
    """Message Envelope (RFC 3652 2.2.1): MajorVersion, MinorVersion, MessageFlag (2 octets), SessionId,
    RequestId, SequenceNumber, MessageLength. ``flag_octets`` overrides the two MessageFlag octets."""
    if flag_octets is None:
        first = (
            (ENV_FLAG_CP if compressed else 0) | (ENV_FLAG_EC if encrypted else 0) | (ENV_FLAG_TC if truncated else 0)
        )
        first |= (suggest_major or 0) & ENV_SUGGEST_MAJOR_MASK
        flag_octets = u8(first) + u8(suggest_minor or 0)
    return u8(major) + u8(minor) + flag_octets + u32(session_id) + u32(request_id) + u32(sequence) + u32(message_length)


def header(
    opcode: int,
    *,
    response_code: int = RC_RESERVED,
    flags: int | dict[str, bool] | None = None,
    site_info_serial: int = NO_SITE_INFO_SERIAL,
    recursion_count: int = 0,
    reserved: int = 0,
    expiration: int | None = None,
    body_length: int,
) -> bytes:
    """Message Header (RFC 3652 2.2.2): OpCode, ResponseCode, OpFlag, SiteInfoSerialNumber (2),
    RecursionCount (1), a reserved octet, ExpirationTime, BodyLength."""
    if expiration is None:
        expiration = int(time.time()) + DEFAULT_EXPIRATION_SECONDS
    return (
        u32(opcode)
        + u32(response_code)
        + u32(opflags(flags))
        + u16(site_info_serial)
        + u8(recursion_count)
        + u8(reserved)
        + u32(expiration)
        + u32(body_length)
    )


def message(
    opcode: int,
    body: bytes = b"",
    *,
    body_length: int | None = None,
    credential: bytes = b"",
    credential_length: int | None = None,
    with_credential_field: bool = True,
    **header_fields: Any,
) -> bytes:
    """Header + Body + Credential (RFC 3652 2.2), the part the envelope's MessageLength counts.

    The credential section is its 4-octet CredentialLength and the credential (RFC 3652 2.2.4); Handle.Net
    always writes the length, 0 when unsigned (AbstractMessage.getEncodedMessage).
    """
    head = header(opcode, body_length=len(body) if body_length is None else body_length, **header_fields)
    out = head + body
    if with_credential_field:
        out += u32(len(credential) if credential_length is None else credential_length) + credential
    return out


def frame(msg: bytes, *, message_length: int | None = None, **envelope_fields: Any) -> bytes:
    """Envelope + message, as one TCP write or one UDP packet."""
    return envelope(message_length=len(msg) if message_length is None else message_length, **envelope_fields) + msg


def udp_packets(
    msg: bytes, *, max_data: int = MAX_UDP_DATA_SIZE, mark_truncated: bool = True, **envelope_fields: Any
) -> list[bytes]:
    """Split a message into UDP packets (RFC 3652 2.2.5): each has an envelope with the SequenceNumber of
    the packet (0, 1, ...) and the MessageLength of the whole message, and at most 512 octets in all.
    Handle.Net sets TC on every packet of a message of more than one packet
    (HandleResolver.getUdpPacketsForRequest)."""
    chunks = [msg[i : i + max_data] for i in range(0, len(msg), max_data)] or [b""]
    truncated = mark_truncated and len(chunks) > 1
    envelope_fields.setdefault("truncated", truncated)
    return [
        envelope(message_length=len(msg), sequence=seq, **envelope_fields) + chunk for seq, chunk in enumerate(chunks)
    ]


# ---------------------------------------------------------------------------------------------------------
# Decoding answers
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Envelope:
    major: int
    minor: int
    compressed: bool
    encrypted: bool
    truncated: bool
    suggest_major: int
    suggest_minor: int
    session_id: int
    request_id: int
    sequence: int
    message_length: int
    raw_flags: bytes = b""


def decode_envelope(data: bytes) -> Envelope:
    if len(data) < ENVELOPE_SIZE:
        raise HandleProtocolError(f"envelope of {len(data)} octets")
    r = Reader(data)
    major, minor, f0, f1 = r.u8(), r.u8(), r.u8(), r.u8()
    suggest_major, suggest_minor = f0 & ENV_SUGGEST_MAJOR_MASK, f1
    if suggest_major == 0:  # Handle.Net Encoder.decodeEnvelope
        suggest_major, suggest_minor = major, minor
    return Envelope(
        major=major,
        minor=minor,
        compressed=bool(f0 & ENV_FLAG_CP),
        encrypted=bool(f0 & ENV_FLAG_EC),
        truncated=bool(f0 & ENV_FLAG_TC),
        suggest_major=suggest_major,
        suggest_minor=suggest_minor,
        session_id=r.u32(),
        request_id=r.u32(),
        sequence=r.u32(),
        message_length=r.u32(),
        raw_flags=bytes([f0, f1]),
    )


@dataclass
class Response:
    opcode: int
    response_code: int
    request_id: int
    session_id: int
    major: int
    minor: int
    flags: dict[str, bool]
    handle: str | None = None
    values: list[HandleValue] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    body: bytes = b""  # the whole Message Body, request digest included
    nonce: bytes | None = None  # of a challenge (RC_AUTHENTICATION_NEEDED)
    request_digest: bytes | None = None
    signature: bytes | None = None  # the credential section (after CredentialLength), if any
    message: str | None = None  # of an error response
    # more detail
    digest_algorithm: int | None = None
    site: dict[str, Any] | None = None
    suggest_major: int = 0
    suggest_minor: int = 0
    site_info_serial: int = 0
    recursion_count: int = 0
    expiration: int = 0
    opflags: int = 0
    is_valid: bool | None = None  # of an OC_VERIFY_RESPONSE answer
    header_and_body: bytes = field(default=b"", repr=False)  # what digests and signatures cover
    raw: bytes = field(default=b"", repr=False)  # header + body + credential
    envelope: Envelope | None = field(default=None, repr=False)
    # every message of a multi-message answer (this one first)
    messages: list[Response] = field(default_factory=list, repr=False, compare=False)
    challenge: Response | None = field(default=None, repr=False, compare=False)  # answered on the way here

    @property
    def ok(self) -> bool:
        return self.response_code == RC_SUCCESS

    def values_of(self, vtype: str) -> list[HandleValue]:
        return [v for v in self.values if v.type == vtype]

    def value(self, index: int) -> HandleValue | None:
        return next((v for v in self.values if v.index == index), None)


def _read_request_digest(r: Reader) -> tuple[int, bytes]:
    """RequestDigest (RFC 3652 2.2.3): DigestAlgorithmIdentifier octet + digest; Handle.Net also accepts
    identifier 0 for the 2.0 form (4-octet length and an MD5 digest; Encoder.decodeMessage)."""
    code = r.u8()
    if code == HASH_CODE_MD5_OLD_FORMAT:
        r.pos -= 1
        return code, r.lbytes()
    size = _DIGEST_SIZES.get(code)
    if size is None:
        raise HandleProtocolError(f"unknown request digest algorithm {code}")
    return code, r.take(size)


def decode_message(data: bytes, env: Envelope | None = None) -> Response:
    """Decode header + body + credential of an answer (or of a request, with response_code 0)."""
    r = Reader(data)
    if len(data) < HEADER_SIZE:
        raise HandleProtocolError(f"message of {len(data)} octets is shorter than a header")
    opcode, rc, flags_int = r.u32(), r.u32(), r.u32()
    serial, recursion, _reserved = r.u16(), r.u8(), r.u8()
    expiration, body_length = r.u32(), r.u32()
    if HEADER_SIZE + body_length > len(data):
        raise HandleProtocolError(f"BodyLength {body_length} runs past the {len(data)}-octet message")
    body = data[HEADER_SIZE : HEADER_SIZE + body_length]
    resp = Response(
        opcode=opcode,
        response_code=rc,
        request_id=env.request_id if env else 0,
        session_id=env.session_id if env else 0,
        major=env.major if env else 0,
        minor=env.minor if env else 0,
        flags=flags_from_int(flags_int),
        body=body,
        suggest_major=env.suggest_major if env else 0,
        suggest_minor=env.suggest_minor if env else 0,
        site_info_serial=serial,
        recursion_count=recursion,
        expiration=expiration,
        opflags=flags_int,
        header_and_body=data[: HEADER_SIZE + body_length],
        raw=data,
        envelope=env,
    )
    # Credential: present when there is room for its length (Encoder.decodeMessage)
    cr = Reader(data, HEADER_SIZE + body_length)
    if cr.remaining >= 4:
        cred = cr.lbytes()
        resp.signature = cred or None

    b = Reader(body)
    # An answer whose header has RD starts its body with the RequestDigest (RFC 3652 2.2.3). A 2.0
    # challenge carries its digest after the nonce instead (below).
    if rc != RC_RESERVED and flags_int & OPFLAGS["RD"]:
        if not (rc == RC_AUTHEN_NEEDED and _is_version_2_0(resp)):
            resp.digest_algorithm, resp.request_digest = _read_request_digest(b)

    if rc == RC_RESERVED:
        return resp  # a request: body left raw
    if rc == RC_SUCCESS:
        if opcode == OC_RESOLUTION:
            resp.handle = b.utf8()
            resp.values = [decode_value(b) for _ in range(b.count(2048))]
        elif opcode == OC_GET_SITEINFO:
            resp.site = decode_site(b.rest())
        elif opcode in (OC_LIST_HANDLE, OC_LIST_NA, OC_LIST_HOMED_NAS):
            resp.handles = [b.utf8() for _ in range(b.count())]
        elif opcode == OC_CREATE_HANDLE and b.remaining:
            resp.handle = b.utf8()  # Handle.Net: the minted handle (CreateHandleResponse)
        elif opcode == OC_VERIFY_RESPONSE and b.remaining:
            resp.is_valid = bool(b.u8() & 1)
    elif rc in (RC_SERVICE_REFERRAL, RC_NA_DELEGATE):
        resp.handle = b.utf8()
        if b.remaining:
            resp.values = [decode_value(b) for _ in range(b.count(2048))]
    elif rc == RC_AUTHEN_NEEDED:
        resp.nonce = b.lbytes()
        if _is_version_2_0(resp):
            # 2.0: nonce, then the request digest as a plain byte array (Encoder.decodeChallenge)
            resp.digest_algorithm, resp.request_digest = HASH_CODE_MD5_OLD_FORMAT, b.lbytes()
    else:
        if b.remaining >= 4:
            resp.message = b.lbytes().decode("utf-8", "replace")
    return resp


def _is_version_2_0(resp: Response) -> bool:
    return (resp.major, resp.minor) in ((2, 0), (5, 0))


def decode_answer(datagram_or_stream: bytes) -> Response:
    """Decode one envelope + message (as sent in a single UDP packet or at the start of a TCP stream)."""
    env = decode_envelope(datagram_or_stream)
    return decode_message(datagram_or_stream[ENVELOPE_SIZE : ENVELOPE_SIZE + env.message_length], env)


def parse_credential(credential: bytes) -> dict[str, Any]:
    """Message Credential (RFC 3652 2.2.4): Version (1), Reserved (1), Options (2), Signer (handle
    UTF8-String + index), Type (UTF8-String), SignedInfo: Length (4), DigestAlgorithm (UTF8-String),
    SignedData (4-octet length + signature). Handle.Net leaves the signer handle empty and puts a session
    counter in the signer index (AbstractMessage.signMessage)."""
    r = Reader(credential)
    out: dict[str, Any] = {"version": r.u8(), "reserved": r.u8(), "options": r.u16()}
    out["signer_handle"] = r.utf8()
    out["signer_index"] = r.u32()
    out["type"] = r.utf8()
    out["signed_info_length"] = r.u32()
    out["digest_algorithm"] = r.utf8()
    out["signature"] = r.lbytes()
    return out


# ---------------------------------------------------------------------------------------------------------
# Digests, MACs and signatures
# ---------------------------------------------------------------------------------------------------------


def version_at_least(major: int, minor: int, want_major: int, want_minor: int) -> bool:
    """Handle.Net AbstractMessage.hasEqualOrGreaterVersion, including its quirk for the 5.x versions that
    very old clients sent by mistake."""
    if major == 5:
        return want_major == 5 and minor >= want_minor
    if want_major == 5:
        return True
    return (major, minor) >= (want_major, want_minor)


def request_digest_algorithm(major: int, minor: int) -> int:
    """Which digest a Handle.Net server puts in answers (AbstractResponse.takeDigestOfRequest): before 2.1
    MD5 in the old format, 2.1 to 2.6 SHA-1, 2.7 on SHA-256. The version is that of the answer's envelope."""
    if not version_at_least(major, minor, 2, 1):
        return HASH_CODE_MD5_OLD_FORMAT
    if version_at_least(major, minor, 2, 7):
        return HASH_CODE_SHA256
    return HASH_CODE_SHA1


def digest(code: int, data: bytes) -> bytes:
    name = _HASHLIB_NAMES.get(code)
    if name is None:
        raise HandleProtocolError(f"unknown digest algorithm {code}")
    return hashlib.new(name, data).digest()


def pbkdf2_password(secret: bytes) -> bytes:
    """The octets Java's PBKDF2WithHmacSHA1 actually uses for Handle.Net's secret key: Util.doPBKDF2 turns
    each octet into a char (octet & 0xFF), and the SunJCE PBKDF2 implementation encodes the chars as UTF-8.
    For ASCII secrets this is the secret unchanged."""
    return secret.decode("latin-1").encode("utf-8")


def secret_key_answer(
    secret: bytes,
    nonce: bytes,
    request_digest: bytes,
    major: int,
    minor: int,
    *,
    salt: bytes | None = None,
    iterations: int = PBKDF2_ITERATIONS,
    key_length_bits: int = PBKDF2_KEY_LENGTH_BITS,
    algorithm: int | None = None,
) -> bytes:
    """The ChallengeResponse field of an HS_SECKEY answer, as Handle.Net 9 computes it
    (SecretKeyAuthenticationInfo.authenticate, Util.doMac, Util.doPbkdf2HmacSHA1).

    ``major``/``minor`` is the lower of the challenge's envelope version and its suggested version.
    * before 2.1: MD5(secret + nonce + digest + secret), no algorithm octet (RFC 3652 2.0 form)
    * 2.1 to 2.6: 0x02, SHA-1(secret + nonce + digest + secret) (the RFC 3652 2.3.5 MAC with SHA-1)
    * 2.7 on: 0x22, then salt (length-prefixed, 16 random octets), iterations (4 octets, 10000), key length
      in bits (4 octets, 160), HMAC-SHA1 (length-prefixed) over nonce + digest keyed with
      PBKDF2-HMAC-SHA1(secret, salt, iterations, key length)
    ``algorithm`` forces one of the HASH_CODE_* forms.
    """
    data = nonce + request_digest
    if algorithm is None:
        if not version_at_least(major, minor, 2, 1):
            algorithm = HASH_CODE_MD5_OLD_FORMAT
        elif version_at_least(major, minor, 2, 7):
            algorithm = HASH_CODE_PBKDF2_HMAC_SHA1
        else:
            algorithm = HASH_CODE_SHA1
    if algorithm == HASH_CODE_MD5_OLD_FORMAT:
        return hashlib.md5(secret + data + secret).digest()
    if algorithm == HASH_CODE_PBKDF2_HMAC_SHA1:
        salt = secrets.token_bytes(PBKDF2_SALT_SIZE) if salt is None else salt
        key = hashlib.pbkdf2_hmac("sha1", pbkdf2_password(secret), salt, iterations, key_length_bits // 8)
        mac = hmac.new(key, data, "sha1").digest()
        return u8(algorithm) + lbytes(salt) + u32(iterations) + u32(key_length_bits) + lbytes(mac)
    if algorithm in (HASH_CODE_HMAC_SHA1, HASH_CODE_HMAC_SHA256):
        name = "sha1" if algorithm == HASH_CODE_HMAC_SHA1 else "sha256"
        return u8(algorithm) + hmac.new(secret, data, name).digest()
    name = _HASHLIB_NAMES[algorithm]
    return u8(algorithm) + hashlib.new(name, secret + data + secret).digest()


def hashed_secret(password: bytes) -> bytes:
    """Handle.Net's "hashed" secret key (Encoder.encodeSecretKey with hash=true): the lower-case hex of the
    SHA-1 of the password. The HS_SECKEY value then holds these 40 characters and the client MACs with them."""
    return hashlib.sha1(password).hexdigest().encode("ascii")


def _hash_for_name(name: str) -> hashes.HashAlgorithm:
    key = name.upper().replace("-", "")
    if key in ("SHA256", "\x03"):
        return hashes.SHA256()
    if key in ("SHA1", "\x02"):
        return hashes.SHA1()
    if key in ("MD5", "\x01"):
        return hashes.MD5()
    raise ValueError(f"unknown digest algorithm {name!r}")


def public_key_signature_hash(private_key: Any, major: int, minor: int) -> str:
    """Handle.Net Util.getDefaultSigId(alg, challenge): from 2.7 SHA-256, except DSA before 2.11 which stays
    on SHA-1; before 2.7 SHA-1. Returns the name Handle.Net writes ("SHA-256" or "SHA1",
    Util.getHashAlgIdFromSigId). The version is that of the challenge's envelope."""
    if not version_at_least(major, minor, 2, 7):
        return "SHA1"
    if isinstance(private_key, dsa.DSAPrivateKey) and not version_at_least(major, minor, 2, 11):
        return "SHA1"
    return "SHA-256"


def sign_bytes(private_key: Any, data: bytes, hash_name: str) -> bytes:
    """RSA: PKCS#1 v1.5 (Java "SHAxwithRSA"); DSA: DER (r, s) (Java "SHAxwithDSA").
    EC and Ed25519 are not in Handle.Net 9.2: ECDSA DER with the named hash, and pure Ed25519 over the data
    (the hash name then only labels the exchange), are this client's extension."""
    algo = _hash_for_name(hash_name)
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), algo)
    if isinstance(private_key, dsa.DSAPrivateKey):
        return private_key.sign(data, algo)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(algo))
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    raise ValueError(f"cannot sign with {type(private_key).__name__}")


def verify_bytes(public_key: Any, signature: bytes, data: bytes, hash_name: str) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), _hash_for_name(hash_name))
        elif isinstance(public_key, dsa.DSAPublicKey):
            public_key.verify(signature, data, _hash_for_name(hash_name))
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(_hash_for_name(hash_name)))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            raise ValueError(f"cannot verify with {type(public_key).__name__}")
    except InvalidSignature:
        return False
    return True


def public_key_answer(private_key: Any, nonce: bytes, request_digest: bytes, major: int, minor: int) -> bytes:
    """The ChallengeResponse field of an HS_PUBKEY answer (PublicKeyAuthenticationInfo.authenticate):
    DigestAlgorithm (UTF8-String, "SHA-256" or "SHA1"), then the signature of nonce + request digest
    (4-octet length + octets). RFC 3652 2.3.5 gives the same two fields."""
    hash_name = public_key_signature_hash(private_key, major, minor)
    return utf8(hash_name) + lbytes(sign_bytes(private_key, nonce + request_digest, hash_name))


def signed_prefix(
    major: int,
    minor: int,
    suggest_major: int,
    suggest_minor: int,
    session_id: int,
    request_id: int,
    session_counter: int,
) -> bytes:
    """What Handle.Net signs before header + body in a certified message (AbstractMessage.signMessage):
    nothing before 2.6; from 2.8 major, minor, suggested major, suggested minor, SessionId, RequestId and
    the session counter (the credential's signer index); 2.7 the same without the suggested version;
    2.6 the bytes Handle.Net's offset bug leaves (major, minor, the first two octets of SessionId, the
    counter, then six zero octets)."""
    if not version_at_least(major, minor, 2, 6):
        return b""
    if version_at_least(major, minor, 2, 8):
        return (
            bytes([major, minor, suggest_major, suggest_minor])
            + u32(session_id)
            + u32(request_id)
            + u32(session_counter)
        )
    if version_at_least(major, minor, 2, 7):
        return bytes([major, minor]) + u32(session_id) + u32(request_id) + u32(session_counter)
    buf = bytearray(14)
    buf[0], buf[1] = major, minor
    buf[2:6] = u32(session_id)
    buf[4:8] = u32(request_id)
    buf[4:8] = u32(session_counter)
    return bytes(buf)


def verify_signature(response: Response, public_key: Any) -> bool:
    """Check the HS_SIGNED credential of a certified response against the server's public key
    (RFC 3652 2.2.4 and 3.6; Handle.Net AbstractMessage.verifyMessage(PublicKey)). ``public_key`` is a
    cryptography key object or HS_PUBKEY data."""
    if not response.signature:
        return False
    if isinstance(public_key, (bytes, bytearray)):
        public_key = decode_public_key(bytes(public_key))
    cred = parse_credential(response.signature)
    if cred["type"] not in (CREDENTIAL_TYPE_SIGNED, CREDENTIAL_TYPE_OLDSIGNED):
        return False
    prefix = signed_prefix(
        response.major,
        response.minor,
        response.suggest_major,
        response.suggest_minor,
        response.session_id,
        response.request_id,
        cred["signer_index"],
    )
    return verify_bytes(public_key, cred["signature"], prefix + response.header_and_body, cred["digest_algorithm"])


def sign_message_credential(
    private_key: Any,
    header_and_body: bytes,
    *,
    major: int = MAJOR_VERSION,
    minor: int = MINOR_VERSION,
    suggest_major: int = MAJOR_VERSION,
    suggest_minor: int = MINOR_VERSION,
    session_id: int = 0,
    request_id: int = 0,
    session_counter: int = 0,
    hash_name: str = "SHA-256",
) -> bytes:
    """Build an HS_SIGNED credential the way a Handle.Net server does, for fakes and tests of
    verify_signature."""
    prefix = signed_prefix(major, minor, suggest_major, suggest_minor, session_id, request_id, session_counter)
    sig = sign_bytes(private_key, prefix + header_and_body, hash_name)
    signed_info = utf8(hash_name) + lbytes(sig)
    head = u8(0) + u8(0) + u16(0) + utf8("") + u32(session_counter) + utf8(CREDENTIAL_TYPE_SIGNED)
    return head + u32(len(signed_info)) + signed_info


# ---------------------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------------------


class SecretKeyAuth:
    """HS_SECKEY authentication. ``hashed=True`` MACs with hashed_secret(secret), as Handle.Net's
    SecretKeyAuthenticationInfo(..., hash=true) does for a secret stored hashed."""

    auth_type = "HS_SECKEY"

    def __init__(self, handle: str, index: int, secret: bytes, *, hashed: bool = False, algorithm: int | None = None):
        self.handle = handle
        self.index = index
        self.secret = hashed_secret(secret) if hashed else secret
        self.algorithm = algorithm

    def answer(self, challenge: Response) -> bytes:
        # the lower of the challenge's version and its suggested version (SecretKeyAuthenticationInfo)
        major, minor = (challenge.major, challenge.minor)
        if version_at_least(major, minor, challenge.suggest_major, challenge.suggest_minor):
            major, minor = challenge.suggest_major, challenge.suggest_minor
        assert challenge.nonce is not None and challenge.request_digest is not None
        return secret_key_answer(
            self.secret, challenge.nonce, challenge.request_digest, major, minor, algorithm=self.algorithm
        )


class PublicKeyAuth:
    """HS_PUBKEY authentication with a cryptography private key (RSA or DSA as Handle.Net; EC and Ed25519
    as this client's extension, see sign_bytes)."""

    auth_type = "HS_PUBKEY"

    def __init__(self, handle: str, index: int, private_key: Any):
        self.handle = handle
        self.index = index
        self.private_key = private_key

    def answer(self, challenge: Response) -> bytes:
        assert challenge.nonce is not None and challenge.request_digest is not None
        return public_key_answer(
            self.private_key, challenge.nonce, challenge.request_digest, challenge.major, challenge.minor
        )


# ---------------------------------------------------------------------------------------------------------
# Reassembly of answers
# ---------------------------------------------------------------------------------------------------------


class UdpReassembler:
    """Puts the packets of UDP answers back together (RFC 3652 2.2.5): packets of one message share the
    RequestId and MessageLength and are ordered by SequenceNumber. A multi-message answer (CN set) sends
    its messages one after the other, each numbered from 0 (Handle.Net HdlUdpRequestHandler)."""

    def __init__(self, request_id: int):
        self.request_id = request_id
        self.parts: dict[int, bytes] = {}
        self.env: Envelope | None = None
        self.ignored: list[bytes] = []

    def feed(self, packet: bytes) -> tuple[Envelope, bytes] | None:
        env = decode_envelope(packet)
        if env.request_id != self.request_id:
            self.ignored.append(packet)
            return None
        if self.env is not None and env.message_length != self.env.message_length:
            raise HandleProtocolError(
                f"packet {env.sequence} says MessageLength {env.message_length}, earlier ones {self.env.message_length}"
            )
        if self.env is None:
            self.env = env
        if env.sequence in self.parts:
            raise HandleProtocolError(f"SequenceNumber {env.sequence} twice in one message")
        self.parts[env.sequence] = packet[ENVELOPE_SIZE:]
        got = sum(len(p) for p in self.parts.values())
        if got < self.env.message_length:
            return None
        ordered = [self.parts.get(i) for i in range(len(self.parts))]
        if any(p is None for p in ordered):
            return None  # a gap: wait for the missing packet
        data = b"".join(p for p in ordered if p is not None)
        if len(data) != self.env.message_length:
            raise HandleProtocolError(f"reassembled {len(data)} octets, MessageLength says {self.env.message_length}")
        first = self.env
        self.parts, self.env = {}, None
        return first, data


class _DatagramQueue(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | Exception] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.queue.put_nowait(exc)


def merge_messages(messages: list[Response]) -> Response:
    """One Response for a multi-message answer: the first message, with the handles and values of all of
    them, and ``messages`` listing each."""
    first = messages[0]
    if len(messages) > 1:
        first.handles = [h for m in messages for h in m.handles]
        first.values = [v for m in messages for v in m.values]
    first.messages = list(messages)
    return first


# ---------------------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------------------


class HandleClient:
    """An asyncio Handle protocol client for one server interface (no sessions, no referral following).

    Each exchange uses a fresh UDP socket or TCP connection. When the server answers
    RC_AUTHENTICATION_NEEDED and ``auth`` is given, the client answers the challenge with
    OC_CHALLENGE_RESPONSE (SessionId of the challenge, a new RequestId, the version of the challenge capped
    at the client's, as HandleResolver.sendRequestToServerByProtocol does) and returns the final answer, with
    the challenge in ``Response.challenge``.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        transport: str = "udp",
        timeout: float = 5.0,
        major: int = MAJOR_VERSION,
        minor: int = MINOR_VERSION,
        suggest: tuple[int, int] | None = (MAJOR_VERSION, MINOR_VERSION),
        site_info_serial: int = NO_SITE_INFO_SERIAL,
        verify_challenge_digest: bool = True,
        max_udp_data: int = MAX_UDP_DATA_SIZE,
    ):
        if transport not in ("udp", "tcp"):
            raise ValueError(f"transport is udp or tcp, not {transport!r}")
        self.host = host
        self.port = port
        self.transport = transport
        self.timeout = timeout
        self.major = major
        self.minor = minor
        self.suggest = suggest
        self.site_info_serial = site_info_serial
        self.verify_challenge_digest = verify_challenge_digest
        self.max_udp_data = max_udp_data
        self.last_request: bytes | None = None  # header + body + credential of the last message sent

    # -- operations --------------------------------------------------------------------------------------

    async def resolve(
        self,
        handle: str,
        *,
        types: Sequence[str] = (),
        indexes: Sequence[int] = (),
        authoritative: bool = False,
        public_only: bool = True,
        certified: bool = False,
        auth: SecretKeyAuth | PublicKeyAuth | None = None,
        **kw: Any,
    ) -> Response:
        """OC_RESOLUTION (RFC 3652 2.3.2, 3.2)."""
        kw.setdefault("AT", authoritative)
        kw.setdefault("PO", public_only)
        kw.setdefault("CT", certified)
        return await self.request(OC_RESOLUTION, resolution_body(handle, types, indexes), auth=auth, **kw)

    async def get_site_info(self, **kw: Any) -> Response:
        """OC_GET_SITEINFO; the body is the handle "/" as Handle.Net sends it (Common.BLANK_HANDLE)."""
        return await self.request(OC_GET_SITEINFO, handle_body("/"), **kw)

    async def create_handle(self, handle: str, values: Sequence[HandleValue], *, auth: Any, **kw: Any) -> Response:
        return await self.request(OC_CREATE_HANDLE, values_body(handle, values), auth=auth, **kw)

    async def delete_handle(self, handle: str, *, auth: Any, **kw: Any) -> Response:
        return await self.request(OC_DELETE_HANDLE, handle_body(handle), auth=auth, **kw)

    async def add_values(self, handle: str, values: Sequence[HandleValue], *, auth: Any, **kw: Any) -> Response:
        return await self.request(OC_ADD_VALUE, values_body(handle, values), auth=auth, **kw)

    async def remove_values(self, handle: str, indexes: Sequence[int], *, auth: Any, **kw: Any) -> Response:
        return await self.request(OC_REMOVE_VALUE, remove_values_body(handle, indexes), auth=auth, **kw)

    async def modify_values(self, handle: str, values: Sequence[HandleValue], *, auth: Any, **kw: Any) -> Response:
        return await self.request(OC_MODIFY_VALUE, values_body(handle, values), auth=auth, **kw)

    async def list_handles(self, na_handle: str, *, auth: Any, transport: str | None = "tcp", **kw: Any) -> Response:
        """OC_LIST_HANDLE for a prefix handle such as "0.NA/88.118". Handle.Net sends it over TCP only
        (ListHandlesRequest.requiresConnection); the answer may come in several messages (CN), all collected."""
        return await self.request(OC_LIST_HANDLE, handle_body(na_handle), auth=auth, transport=transport, **kw)

    async def list_nas(
        self,
        na_handle: str,
        *,
        auth: Any,
        transport: str | None = "tcp",
        opcode: int = OC_LIST_HOMED_NAS,
        **kw: Any,
    ) -> Response:
        """List prefixes. Handle.Net 9 sends OC_LIST_HOMED_NAS (302, ListNAsRequest) with the NA handle as
        body, over TCP; RFC 3652 names OC_LIST_NA (106) for listing sub-naming authorities: pass
        ``opcode=OC_LIST_NA`` for that."""
        return await self.request(opcode, handle_body(na_handle), auth=auth, transport=transport, **kw)

    # -- the generic exchange ----------------------------------------------------------------------------

    def build(
        self,
        opcode: int,
        body: bytes,
        *,
        flags: dict[str, bool] | None = None,
        site_info_serial: int | None = None,
        recursion_count: int = 0,
        expiration: int | None = None,
        credential: bytes = b"",
    ) -> bytes:
        """Header + body + credential of a request with this client's defaults."""
        return message(
            opcode,
            body,
            flags={**DEFAULT_REQUEST_FLAGS, **(flags or {})},
            site_info_serial=self.site_info_serial if site_info_serial is None else site_info_serial,
            recursion_count=recursion_count,
            expiration=expiration,
            credential=credential,
        )

    async def request(
        self,
        opcode: int,
        body: bytes = b"",
        *,
        auth: SecretKeyAuth | PublicKeyAuth | None = None,
        transport: str | None = None,
        session_id: int = 0,
        request_id: int | None = None,
        site_info_serial: int | None = None,
        recursion_count: int = 0,
        expiration: int | None = None,
        credential: bytes = b"",
        major: int | None = None,
        minor: int | None = None,
        **flags: bool,
    ) -> Response:
        """Send any request and return the (merged) answer. Keyword flags are OpFlag names: AT=True, RD=True,
        ... on top of DEFAULT_REQUEST_FLAGS (REC, CA, PO)."""
        flags = {k.upper(): v for k, v in flags.items()}
        msg = self.build(
            opcode,
            body,
            flags=flags,
            site_info_serial=site_info_serial,
            recursion_count=recursion_count,
            expiration=expiration,
            credential=credential,
        )
        major = self.major if major is None else major
        minor = self.minor if minor is None else minor
        resp = await self.exchange(
            msg, request_id=request_id, session_id=session_id, transport=transport, major=major, minor=minor
        )
        if resp.response_code != RC_AUTHEN_NEEDED or auth is None:
            return resp
        return await self.answer_challenge(
            resp, msg, auth, flags=flags, transport=transport, site_info_serial=site_info_serial
        )

    async def answer_challenge(
        self,
        challenge: Response,
        original: bytes,
        auth: SecretKeyAuth | PublicKeyAuth,
        *,
        flags: dict[str, bool] | None = None,
        transport: str | None = None,
        site_info_serial: int | None = None,
    ) -> Response:
        """Send OC_CHALLENGE_RESPONSE for ``challenge`` (RFC 3652 2.3.5, 3.5)."""
        if challenge.nonce is None or challenge.request_digest is None:
            raise HandleProtocolError("challenge without nonce or request digest")
        if self.verify_challenge_digest:
            # Handle.Net refuses to answer a challenge whose digest is not that of the request it sent
            # (SecretKeyAuthenticationInfo.authenticate: "Asked to sign unidentified request!")
            header_and_body = original[: len(original) - 4 - _credential_length(original)]
            expected = digest(challenge.digest_algorithm or 0, header_and_body)
            if expected != challenge.request_digest:
                raise HandleProtocolError(
                    f"challenge digest {challenge.request_digest.hex()} is not the digest of the request "
                    f"({expected.hex()}, algorithm {challenge.digest_algorithm})"
                )
        answer_body = challenge_answer_body(auth.auth_type, auth.handle, auth.index, auth.answer(challenge))
        msg = self.build(
            OC_CHALLENGE_RESPONSE,
            answer_body,
            flags=flags,
            site_info_serial=NO_SITE_INFO_SERIAL if site_info_serial is None else site_info_serial,
        )
        # the answer speaks the challenge's version, capped at the client's (AbstractMessage
        # .setSupportedProtocolVersion)
        major, minor = challenge.major, challenge.minor
        if version_at_least(major, minor, self.major, self.minor):
            major, minor = self.major, self.minor
        final = await self.exchange(msg, session_id=challenge.session_id, transport=transport, major=major, minor=minor)
        final.challenge = challenge
        return final

    async def exchange(
        self,
        msg: bytes,
        *,
        request_id: int | None = None,
        session_id: int = 0,
        transport: str | None = None,
        major: int | None = None,
        minor: int | None = None,
    ) -> Response:
        """Send one message (header + body + credential) and return its answer, every message of a
        multi-message answer collected (``Response.messages``)."""
        request_id = secrets.randbelow(0x7FFFFFFE) + 1 if request_id is None else request_id
        env_fields: dict[str, Any] = {
            "major": self.major if major is None else major,
            "minor": self.minor if minor is None else minor,
            "request_id": request_id,
            "session_id": session_id,
            "suggest_major": self.suggest[0] if self.suggest else 0,
            "suggest_minor": self.suggest[1] if self.suggest else 0,
        }
        self.last_request = msg
        transport = transport or self.transport
        if transport == "tcp":
            messages = await self._tcp(msg, request_id, env_fields)
        else:
            messages = await self._udp(msg, request_id, env_fields)
        return merge_messages(messages)

    async def _udp(self, msg: bytes, request_id: int, env_fields: dict[str, Any]) -> list[Response]:
        loop = asyncio.get_running_loop()
        udp, proto = await loop.create_datagram_endpoint(_DatagramQueue, remote_addr=(self.host, self.port))
        try:
            for packet in udp_packets(msg, max_data=self.max_udp_data, **env_fields):
                udp.sendto(packet)
            return await self._collect_udp(proto.queue, request_id)
        finally:
            udp.close()

    async def _collect_udp(self, queue: asyncio.Queue[bytes | Exception], request_id: int) -> list[Response]:
        reassembler = UdpReassembler(request_id)
        messages: list[Response] = []
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                item = await asyncio.wait_for(queue.get(), max(left, 0))
            except TimeoutError:
                raise HandleTimeout(
                    f"no complete UDP answer from {self.host}:{self.port} within {self.timeout}s "
                    f"({len(messages)} message(s) so far)"
                ) from None
            if isinstance(item, Exception):
                raise item
            done = reassembler.feed(item)
            if done is None:
                continue
            env, data = done
            resp = decode_message(data, env)
            messages.append(resp)
            if not resp.flags["CN"]:
                return messages

    async def _tcp(self, msg: bytes, request_id: int, env_fields: dict[str, Any]) -> list[Response]:
        async def run() -> list[Response]:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            try:
                writer.write(envelope(message_length=len(msg), **env_fields) + msg)
                await writer.drain()
                messages = []
                while True:
                    try:
                        env = decode_envelope(await reader.readexactly(ENVELOPE_SIZE))
                    except asyncio.IncompleteReadError as e:
                        raise HandleProtocolError(
                            f"connection closed after {len(e.partial)} octets of an envelope "
                            f"({len(messages)} message(s) read)"
                        ) from e
                    if env.request_id != request_id:
                        raise HandleProtocolError(f"answer for RequestId {env.request_id}, sent {request_id}")
                    if env.message_length > MAX_MESSAGE_LENGTH:
                        raise HandleProtocolError(f"MessageLength {env.message_length} is above {MAX_MESSAGE_LENGTH}")
                    try:
                        data = await reader.readexactly(env.message_length)
                    except asyncio.IncompleteReadError as e:
                        raise HandleProtocolError(
                            f"connection closed after {len(e.partial)} of {env.message_length} message octets"
                        ) from e
                    resp = decode_message(data, env)
                    messages.append(resp)
                    if not resp.flags["CN"]:
                        return messages
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

        try:
            return await asyncio.wait_for(run(), self.timeout)
        except TimeoutError:
            raise HandleTimeout(f"no complete TCP answer from {self.host}:{self.port} within {self.timeout}s") from None


def _credential_length(msg: bytes) -> int:
    """Length of the credential at the end of header + body + credential (read from the header)."""
    body_length = struct.unpack(">I", msg[20:24])[0]
    return struct.unpack(">I", msg[HEADER_SIZE + body_length : HEADER_SIZE + body_length + 4])[0]


# ---------------------------------------------------------------------------------------------------------
# Raw transport helpers (malformed-input tests)
# ---------------------------------------------------------------------------------------------------------


async def send_udp_raw(host: str, port: int, data: bytes | Sequence[bytes], timeout: float = 2.0) -> bytes | None:
    """Send one datagram (or several, in order) and return the first datagram that comes back, or None when
    nothing comes within ``timeout``."""
    got = await send_udp_raw_all(host, port, data, timeout, first_only=True)
    return got[0] if got else None


async def send_udp_raw_all(
    host: str, port: int, data: bytes | Sequence[bytes], timeout: float = 2.0, *, first_only: bool = False
) -> list[bytes]:
    """Send datagram(s) and return every datagram received until ``timeout`` passes without one."""
    loop = asyncio.get_running_loop()
    udp, proto = await loop.create_datagram_endpoint(_DatagramQueue, remote_addr=(host, port))
    packets = [data] if isinstance(data, (bytes, bytearray)) else list(data)
    out: list[bytes] = []
    try:
        for p in packets:
            udp.sendto(bytes(p))
        while True:
            try:
                item = await asyncio.wait_for(proto.queue.get(), timeout)
            except TimeoutError:
                return out
            if isinstance(item, Exception):
                continue  # e.g. ICMP port unreachable
            out.append(item)
            if first_only:
                return out
    finally:
        udp.close()


async def send_tcp_raw(
    host: str, port: int, data: bytes, timeout: float = 2.0, *, half_close: bool = True, max_bytes: int = 1 << 22
) -> bytes:
    """Write ``data`` on a new TCP connection (then shut down the write side if ``half_close``) and return
    everything the server sends until it closes the connection or ``timeout`` passes without data."""
    reader, writer = await asyncio.open_connection(host, port)
    out = bytearray()
    try:
        writer.write(data)
        await writer.drain()
        if half_close and writer.can_write_eof():
            writer.write_eof()
        while len(out) < max_bytes:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), timeout)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return bytes(out)


def send_udp_raw_sync(host: str, port: int, data: bytes, timeout: float = 2.0) -> bytes | None:
    """Blocking variant of send_udp_raw, for tests whose server runs in another process."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, (host, port))
        try:
            return s.recv(65536)
        except (TimeoutError, ConnectionRefusedError):
            return None


def split_tcp_stream(data: bytes) -> list[Response]:
    """Decode every envelope + message in a received TCP stream (e.g. from send_tcp_raw)."""
    out, pos = [], 0
    while pos + ENVELOPE_SIZE <= len(data):
        env = decode_envelope(data[pos : pos + ENVELOPE_SIZE])
        end = pos + ENVELOPE_SIZE + env.message_length
        if end > len(data):
            raise HandleProtocolError(f"stream ends {end - len(data)} octets short of a message")
        out.append(decode_message(data[pos + ENVELOPE_SIZE : end], env))
        pos = end
    return out
