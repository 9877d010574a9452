"""Webhook secrets: made as the Standard Webhooks specification gives them (``whsec_`` and base64 of random octets),
shown to the subscriber once, and kept sealed with a key derived from the node's signing key (the node needs the
secret itself to sign, so a hash would not do). A node without a signing key keeps them marked ``plain:``; they are
sealed from the next rotation once ``secnode init`` has made the key."""

from __future__ import annotations

import base64
import os

from foundation.crypto.secret_seal import seal_for_key_file

PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64
_PURPOSE = b"secnode webhook secret v1"
_PLAIN = "plain:"


def new_secret() -> str:
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def seal(secret: str, key_file: str) -> str:
    sealer = seal_for_key_file(key_file, _PURPOSE)
    return sealer.seal(secret) if sealer is not None else _PLAIN + secret


def unseal(stored: str, key_file: str) -> str | None:
    """The secret, or None when it was sealed with a key this node no longer has."""
    if stored.startswith(_PLAIN):
        return stored[len(_PLAIN) :]
    sealer = seal_for_key_file(key_file, _PURPOSE)
    opened = sealer.open(stored) if sealer is not None else None
    return opened.decode() if opened is not None else None
