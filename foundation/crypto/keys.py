"""Secret hashing and random tokens. Secrets are stored only as salted scrypt hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME = "scrypt"
# n=2**14, r=8, p=1: OWASP's minimum for scrypt, ~40 ms here. Parameters live in the hash, so they can be raised later.
_N, _R, _P = 2**14, 8, 1
_DKLEN = 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN, maxmem=64 * 1024 * 1024)
    return f"{SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def is_secret_hash(text: str) -> bool:
    return isinstance(text, str) and text.startswith(SCHEME + "$") and text.count("$") == 5


def verify_secret(secret: str, stored: str) -> bool:
    if not is_secret_hash(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    expected = _unb64(digest)
    actual = hashlib.scrypt(
        secret.encode("utf-8"),
        salt=_unb64(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
        maxmem=64 * 1024 * 1024,
    )
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(18)


# ---- the node's signing key (upward reports, snapshots) ---------------------------------------------------------


def ensure_signing_key(path: str) -> tuple[bool, str]:
    """Create an Ed25519 key at ``path`` (PKCS#8 PEM, mode 0600) unless one exists. Returns (created, key id)."""
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    created = False
    if not os.path.exists(path):
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        created = True
    return created, key_id(load_signing_key(path).public_key())


def load_signing_key(path: str) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with open(path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    if not isinstance(key, Ed25519PrivateKey):  # the node signs with Ed25519 only (ensure_signing_key makes one)
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def public_key_raw(public_key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name of a public key: the first 16 hex digits of SHA-256 over its raw bytes."""
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()[:16]
