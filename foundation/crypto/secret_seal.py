"""HS_SECKEY secrets sealed for the node itself.

A secret is stored as a scrypt hash, which checks a secret sent in clear (Handle Basic auth) but cannot answer the
Handle protocol's secret-key challenge: that answer is a MAC keyed with the secret (RFC 3652 section 3.5.3,
Handle.Net's PBKDF2-HMAC-SHA1 form), so the server needs the secret itself. Beside the hash the node keeps the
secret sealed with AES-256-GCM under a key derived (HKDF-SHA256) from its own signing key: readable by this node
only, never shown by any face, and absent when the node has no signing key.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from foundation.crypto.keys import load_signing_key

_INFO = b"secnode HS_SECKEY seal v1"
_PREFIX = "v1:"


class SecretSeal:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        return _PREFIX + base64.b64encode(nonce + self._aead.encrypt(nonce, secret.encode("utf-8"), _INFO)).decode()

    def open(self, sealed: object) -> bytes | None:
        """The secret's octets, or None when ``sealed`` is not a seal of this node's."""
        if not isinstance(sealed, str) or not sealed.startswith(_PREFIX):
            return None
        try:
            raw = base64.b64decode(sealed[len(_PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], _INFO)
        except (InvalidTag, ValueError):
            return None


@functools.lru_cache(maxsize=4)
def seal_for_key_file(path: str, purpose: bytes = _INFO) -> SecretSeal | None:
    """The seal of the node whose signing key is in ``path``; None when it has none (secrets then stay hashes only).
    Each ``purpose`` derives a key of its own from the signing key."""
    try:
        private = load_signing_key(path)
    except (OSError, ValueError):
        return None
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return SecretSeal(HKDF(hashes.SHA256(), 32, salt=None, info=purpose).derive(raw))
