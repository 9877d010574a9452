"""Signing and verifying upward requests (docs/sync-protocol.md): Ed25519 over the SHA-256 digest of the body."""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foundation.crypto.keys import key_id

DIGEST_HEADER = "X-Secnode-Digest"
KEY_HEADER = "X-Secnode-Key-Id"
SIGNATURE_HEADER = "X-Secnode-Signature"


def digest(body: bytes) -> str:
    return "sha-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def sign(body: bytes, key: Ed25519PrivateKey) -> dict[str, str]:
    """The headers that authenticate ``body`` as sent by the holder of ``key``."""
    body_digest = digest(body)
    signature = key.sign(body_digest.encode("ascii"))
    return {
        DIGEST_HEADER: body_digest,
        KEY_HEADER: key_id(key.public_key()),
        SIGNATURE_HEADER: base64.b64encode(signature).decode(),
    }


def verify(body: bytes, headers: dict[str, str], public_key: Ed25519PublicKey) -> bool:
    """True when the headers carry a valid signature of exactly ``body`` by ``public_key``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    body_digest = lowered.get(DIGEST_HEADER.lower())
    if body_digest != digest(body) or lowered.get(KEY_HEADER.lower()) != key_id(public_key):
        return False
    try:
        public_key.verify(
            base64.b64decode(lowered.get(SIGNATURE_HEADER.lower(), ""), validate=True), body_digest.encode("ascii")
        )
    except (InvalidSignature, ValueError):
        return False
    return True
