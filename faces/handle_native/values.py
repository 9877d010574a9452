"""Handle values from the wire: what a client sends in create, add and modify requests (the encoding to the wire is
``foundation.handle_values``, shared with the signatures that digest it)."""

from __future__ import annotations

import base64
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa

from faces.handle_native.wire import Reader
from foundation.crypto.pubkeys import b64url
from foundation.handle_values import (
    ADMIN_READ,
    ADMIN_WRITE,
    DSA_PUB_KEY,
    PERMISSION_BITS,
    PUBLIC_READ,
    PUBLIC_WRITE,
    RSA_PUB_KEY,
    SM2_PUB_KEY,
    SM2_SPKI_PREFIX,
    Value,
    public_key_octets,
    value_octets,
)

__all__ = ["ADMIN_READ", "ADMIN_WRITE", "PUBLIC_READ", "PUBLIC_WRITE", "public_key_octets", "value_octets"]

# ---- from the wire: what a client sends in create, add and modify requests --------------------------------------


def _permissions(octet: int) -> str:
    return "".join("1" if octet & bit else "0" for bit in PERMISSION_BITS)


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
        point = spki[len(SM2_SPKI_PREFIX) :] if spki.startswith(SM2_SPKI_PREFIX) else b""
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
