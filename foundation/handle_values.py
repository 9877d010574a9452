"""Handle values to the wire (RFC 3651 section 3.1, RFC 3652 section 2.2.4), as Handle.Net's ``Encoder`` writes them:
the octets the native face sends, and the octets Handle's signatures digest (``HS_SIGNATURE``: every octet of a value
after its index and timestamp, ``foundation.crypto.handle_trust``).

A value is index, timestamp (seconds), TTL type and TTL, a permission octet (admin read, admin write, public read,
public write), type, data octets and references. The stored form keeps data as ``{format, value}``; HS_ADMIN,
HS_VLIST and HS_PUBKEY data have binary layouts of their own: an admin record is a 2-octet permission mask, the admin
handle and its index; a value list is a count of (handle, index); a public key is its kind (``RSA_PUB_KEY``,
``DSA_PUB_KEY``; ``SM2_PUB_KEY`` in IDIS), two reserved octets and its numbers. Keys that Handle.Net has no encoding
for (Ed25519, ECDSA P-256) travel as the JWK or PEM text they are stored as.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson

from foundation.crypto.pubkeys import load_public_key
from foundation.handle_protocol import octets, text, u32

ADMIN_READ, ADMIN_WRITE, PUBLIC_READ, PUBLIC_WRITE = 0x8, 0x4, 0x2, 0x1
PERMISSION_BITS = (ADMIN_READ, ADMIN_WRITE, PUBLIC_READ, PUBLIC_WRITE)  # in the order of the stored "1110"
RSA_PUB_KEY, DSA_PUB_KEY, SM2_PUB_KEY = b"RSA_PUB_KEY", b"DSA_PUB_KEY", b"SM2_PUB_KEY"
# SubjectPublicKeyInfo of an SM2 point: ecPublicKey with the curve sm2p256v1 (1.2.156.10197.1.301), then 04 x y
SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")

Value = dict[str, Any]


def _seconds(timestamp: Any) -> int:
    if not isinstance(timestamp, str):
        return 0
    try:
        return max(0, int(datetime.fromisoformat(timestamp).timestamp()))
    except ValueError:
        return 0


def _unsigned(number: int) -> bytes:
    """A positive integer as Java's BigInteger.toByteArray writes it (a leading zero octet when the top bit is set)."""
    return number.to_bytes(number.bit_length() // 8 + 1, "big")


def public_key_octets(raw: Any) -> bytes:
    try:
        key = load_public_key(raw)
    except ValueError:
        key = None
    if key is not None and key.kind == "RSA":
        numbers = key.key.public_numbers()
        return octets(RSA_PUB_KEY) + b"\0\0" + octets(_unsigned(numbers.e)) + octets(_unsigned(numbers.n))
    if key is not None and key.kind == "DSA":
        numbers = key.key.public_numbers()
        q, p, g = numbers.parameter_numbers.q, numbers.parameter_numbers.p, numbers.parameter_numbers.g
        return octets(DSA_PUB_KEY) + b"\0\0" + b"".join(octets(_unsigned(n)) for n in (q, p, g, numbers.y))
    if key is not None and key.kind == "SM2":
        return octets(SM2_PUB_KEY) + b"\0\0" + octets(SM2_SPKI_PREFIX + bytes.fromhex(key.key))
    return orjson.dumps(raw) if isinstance(raw, dict) else str(raw).encode("utf-8")


def admin_octets(ref: dict[str, Any]) -> bytes:
    return int(ref.get("permissions", "0"), 2).to_bytes(2, "big") + text(ref["handle"]) + u32(ref["index"])


def data_octets(value: Value, site_octets: Any = None) -> bytes:
    data = value["data"]
    fmt, content = data.get("format", "string"), data.get("value")
    if fmt == "string":
        return str(content).encode("utf-8")
    if fmt == "base64":
        return base64.b64decode(content)
    if fmt == "hex":
        return bytes.fromhex(content)
    if fmt == "admin":
        return admin_octets(content)
    if fmt == "vlist":
        return u32(len(content)) + b"".join(text(m["handle"]) + u32(m["index"]) for m in content)
    if fmt == "key":
        return public_key_octets(content)
    if fmt == "site" and site_octets is not None and isinstance(content, dict):
        return bytes(site_octets(content))
    return orjson.dumps(content) if isinstance(content, (dict, list)) else str(content).encode("utf-8")


def permission_octet(permissions: str) -> int:
    return sum(bit for bit, flag in zip(PERMISSION_BITS, permissions, strict=True) if flag == "1")


def value_octets(value: Value, site_octets: Any = None) -> bytes:
    references = value.get("references") or []
    return b"".join(
        (
            u32(value["index"]),
            u32(_seconds(value.get("timestamp"))),
            b"\0",  # TTL type: relative
            u32(value.get("ttl") or 0),
            bytes((permission_octet(value.get("permissions", "1110")),)),
            text(value["type"]),
            octets(data_octets(value, site_octets)),
            u32(len(references)),
            *(text(r["handle"]) + u32(r["index"]) for r in references),
        )
    )
