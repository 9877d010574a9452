"""Handle values between the node's stored form and the wire (RFC 3651 section 3.1, RFC 3652 section 2.2.4).

On the wire a value is index, timestamp (seconds), TTL type and TTL, a permission octet (admin read, admin write,
public read, public write), type, data octets and references. The stored form keeps data as ``{format, value}``;
HS_ADMIN, HS_VLIST and HS_PUBKEY data have binary layouts of their own (Handle.Net's ``Encoder``): an admin record
is a 2-octet permission mask, the admin handle and its index; a value list is a count of (handle, index); a public
key is its kind (``RSA_PUB_KEY``, ``DSA_PUB_KEY``; ``SM2_PUB_KEY`` in IDIS), two reserved octets and its numbers.
Keys that Handle.Net has no encoding for (Ed25519, ECDSA P-256) travel as the JWK or PEM text they are stored as.
"""

from __future__ import annotations

import base64
import time
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa

from faces.handle_native.wire import Reader
from foundation.crypto.pubkeys import b64url, load_public_key
from foundation.handle_protocol import octets, text, u32

ADMIN_READ, ADMIN_WRITE, PUBLIC_READ, PUBLIC_WRITE = 0x8, 0x4, 0x2, 0x1
_PERMISSION_BITS = (ADMIN_READ, ADMIN_WRITE, PUBLIC_READ, PUBLIC_WRITE)  # in the order of the stored "1110"
RSA_PUB_KEY, DSA_PUB_KEY, SM2_PUB_KEY = b"RSA_PUB_KEY", b"DSA_PUB_KEY", b"SM2_PUB_KEY"
# SubjectPublicKeyInfo of an SM2 point: ecPublicKey with the curve sm2p256v1 (1.2.156.10197.1.301), then 04 x y
_SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")

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
        return octets(SM2_PUB_KEY) + b"\0\0" + octets(_SM2_SPKI_PREFIX + bytes.fromhex(key.key))
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
    return sum(bit for bit, flag in zip(_PERMISSION_BITS, permissions, strict=True) if flag == "1")


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


# ---- from the wire: what a client sends in create, add and modify requests --------------------------------------


def _permissions(octet: int) -> str:
    return "".join("1" if octet & bit else "0" for bit in _PERMISSION_BITS)


def _admin(data: bytes) -> dict[str, Any]:
    reader = Reader(data)
    mask = reader.u16()
    handle = reader.text()
    return {"handle": handle, "index": reader.u32(), "permissions": format(mask & 0xFFF, "012b")}


def _vlist(data: bytes) -> list[dict[str, Any]]:
    reader = Reader(data)
    return [{"handle": reader.text(), "index": reader.u32()} for _ in range(reader.count())]


def _public_key(data: bytes) -> Any:
    """A JWK from Handle.Net's key encoding; anything else is kept as the text it is (checked by the registry)."""
    reader = Reader(data)
    kind = reader.octets() if len(data) >= 4 else b""
    if kind == RSA_PUB_KEY:
        reader.u16()
        exponent, modulus = reader.octets(), reader.octets()
        return {"kty": "RSA", "e": b64url(exponent.lstrip(b"\0")), "n": b64url(modulus.lstrip(b"\0"))}
    if kind == DSA_PUB_KEY:
        reader.u16()
        q, p, g, y = (int.from_bytes(reader.octets(), "big") for _ in range(4))
        try:
            public = dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g)).public_key()
        except ValueError:
            return data.decode("utf-8", errors="replace")  # refused by the registry as no usable key
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return pem.decode("ascii")
    if kind == SM2_PUB_KEY:
        reader.u16()
        spki = reader.octets()
        point = spki[len(_SM2_SPKI_PREFIX) :] if spki.startswith(_SM2_SPKI_PREFIX) else b""
        return {"kty": "EC", "crv": "SM2", "x": b64url(point[:32]), "y": b64url(point[32:])}
    return data.decode("utf-8", errors="replace")


def _data(value_type: str, data: bytes) -> dict[str, Any]:
    if value_type == "HS_ADMIN":
        return {"format": "admin", "value": _admin(data)}
    if value_type == "HS_VLIST":
        return {"format": "vlist", "value": _vlist(data)}
    if value_type == "HS_PUBKEY":
        return {"format": "key", "value": _public_key(data)}
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and "\0" not in decoded:
        return {"format": "string", "value": decoded}
    return {"format": "base64", "value": base64.b64encode(data).decode("ascii")}


def read_value(reader: Reader) -> Value:
    """One value of a request, in the form the registry's ``parse_value`` validates (the server sets timestamps)."""
    index = reader.u32()
    reader.u32()  # timestamp: the server's
    ttl_type = reader.u8()
    ttl = reader.u32()
    if ttl_type == 1:  # absolute expiry in seconds since the epoch
        ttl = max(0, ttl - int(time.time()))
    permissions = _permissions(reader.u8())
    value_type = reader.text()
    data = reader.octets()
    references = [{"handle": reader.text(), "index": reader.u32()} for _ in range(reader.count())]
    value: Value = {"index": index, "type": value_type, "data": _data(value_type, data), "ttl": ttl}
    if permissions != "1110":
        value["permissions"] = permissions
    if references:
        value["references"] = references
    return value


def read_values(reader: Reader) -> list[Value]:
    return [read_value(reader) for _ in range(reader.count())]
