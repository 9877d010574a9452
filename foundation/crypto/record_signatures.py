"""Signed records: an ``HS_SIGNATURE`` value holding a JWS (compact, EdDSA) by the node's key.

The JWS payload names the signing node (``iss``: its prefix), the identifier (``sub``), the time of signing and of
expiry (``iat``, ``exp``) and one digest per value index (``digests``: SHA-256 over the value's canonical JSON).
A digest per index, not one over the record, so an answer filtered by type or index still verifies value by value.

``verify_answer`` is the verification routine a client runs on a Handle REST answer from any node (docs/security.md
shows it in a few lines); ``secnode verify`` runs it from the command line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foundation.crypto.keys import key_id

SIGNATURE_TYPE = "HS_SIGNATURE"
SIGNATURE_INDEX = 400  # Handle.Net's customary index; the next free one when the record uses it
DIGEST_ALG = "SHA-256"


class SignatureInvalid(Exception):
    """The answer does not verify; the message says why (and names the value that failed)."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes for the same value on any node and in any client."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def value_digest(value: dict[str, Any]) -> str:
    return _b64url(hashlib.sha256(canonical_json(value)).digest())


def _canonical_handle(handle: str) -> str:
    prefix, _, suffix = handle.partition("/")
    return f"{prefix.lower()}/{suffix}"


def sign_values(
    handle: str, values: list[dict[str, Any]], key: Ed25519PrivateKey, node_prefix: str, lifetime_seconds: int
) -> dict[str, Any]:
    """The ``HS_SIGNATURE`` value that vouches for ``values`` (as rendered in the answer) of ``handle``."""
    now = int(time.time())
    header = {"alg": "EdDSA", "typ": "JWT", "kid": key_id(key.public_key())}
    payload = {
        "iss": node_prefix,
        "sub": _canonical_handle(handle),
        "iat": now,
        "exp": now + lifetime_seconds,
        "digests": {"alg": DIGEST_ALG, "digests": [{"index": v["index"], "digest": value_digest(v)} for v in values]},
    }
    signing_input = f"{_b64url(canonical_json(header))}.{_b64url(canonical_json(payload))}"
    jws = f"{signing_input}.{_b64url(key.sign(signing_input.encode('ascii')))}"
    used = {v["index"] for v in values}
    index = next(i for i in range(SIGNATURE_INDEX, SIGNATURE_INDEX + len(used) + 1) if i not in used)
    return {
        "index": index,
        "type": SIGNATURE_TYPE,
        "data": {"format": "string", "value": jws},
        "ttl": 0,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
    }


@dataclass(frozen=True)
class Verified:
    issuer: str  # the node prefix that signed
    key_id: str
    indexes: tuple[int, ...]  # the values of the answer the signature covers (all of them)
    expires: int


def verify_answer(
    answer: dict[str, Any],
    public_key: Ed25519PublicKey,
    *,
    expected_handle: str | None = None,
    require_complete: bool = False,
    now: float | None = None,
) -> Verified:
    """Check a Handle REST answer (``{"handle", "values": [...]}``) that carries an ``HS_SIGNATURE`` value: the JWS
    verifies with ``public_key``, is about this identifier (the one asked for: ``expected_handle``), has not
    expired, was issued by the node whose prefix the identifier lives under, and every other value of the answer
    has exactly its signed digest. ``require_complete``: no signed value may be missing (an unfiltered answer)."""
    try:
        return _verify(answer, public_key, expected_handle, require_complete, now)
    except (AttributeError, TypeError, KeyError, RecursionError):  # an answer shaped like no signed answer
        raise SignatureInvalid("the answer or its HS_SIGNATURE value is malformed") from None


def _verify(
    answer: dict[str, Any],
    public_key: Ed25519PublicKey,
    expected_handle: str | None,
    require_complete: bool,
    now: float | None,
) -> Verified:
    values = answer.get("values") or []
    signatures = [v for v in values if v.get("type") == SIGNATURE_TYPE]
    if len(signatures) != 1:
        raise SignatureInvalid(f"the answer carries {len(signatures)} {SIGNATURE_TYPE} values, 1 expected")
    try:
        header_b64, payload_b64, signature_b64 = signatures[0]["data"]["value"].split(".")
        header, payload = json.loads(_unb64url(header_b64)), json.loads(_unb64url(payload_b64))
        public_key.verify(_unb64url(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
    except InvalidSignature:
        raise SignatureInvalid("the signature does not verify with this public key") from None
    except (KeyError, TypeError, ValueError):
        raise SignatureInvalid("the HS_SIGNATURE value is not a JWS") from None
    if header.get("alg") != "EdDSA" or payload.get("digests", {}).get("alg") != DIGEST_ALG:
        raise SignatureInvalid("unsupported signature or digest algorithm")
    handle = _canonical_handle(str(answer.get("handle", "")))
    if expected_handle is not None and handle != _canonical_handle(expected_handle):
        raise SignatureInvalid(f"the answer is about {handle}, not {expected_handle}")
    if payload.get("sub") != handle:
        raise SignatureInvalid(f"the signature is about {payload.get('sub')}, not {handle}")
    issuer = str(payload.get("iss", ""))
    prefix = handle.partition("/")[0]
    if not (prefix == issuer.lower() or prefix.startswith(issuer.lower() + ".")):
        raise SignatureInvalid(f"node {issuer} cannot vouch for {handle}: it is not under its prefix")
    if payload.get("exp", 0) < (now if now is not None else time.time()):
        raise SignatureInvalid("the signature has expired")
    signed = {d["index"]: d["digest"] for d in payload["digests"]["digests"]}
    covered = []
    for value in values:
        if value is signatures[0]:
            continue
        if signed.get(value.get("index")) != value_digest(value):
            raise SignatureInvalid(f"the value at index {value.get('index')} is not the one signed")
        covered.append(value["index"])
    if len(covered) != len(set(covered)):
        raise SignatureInvalid("the answer carries an index twice")
    missing = sorted(set(signed) - set(covered))
    if require_complete and missing:
        raise SignatureInvalid(f"signed values are missing from the answer: indexes {missing}")
    return Verified(issuer, header.get("kid", ""), tuple(covered), payload["exp"])
