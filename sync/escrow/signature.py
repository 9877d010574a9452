"""The detached signature beside each deposit file (``<deposit>.sig``): the 64 raw bytes of the node's Ed25519
signature of the SHA-256 digest (32 raw bytes) of the deposit file. Anyone with the node's public key checks it,
with this module or with OpenSSL (docs/escrow.md, "Checking a deposit by hand")."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.errors import EscrowInvalid

SIGNATURE_BYTES = 64
SIGNATURE_HEADER = "X-Secnode-Escrow-Signature"  # the .sig file's bytes, in base64, when a deposit is sent


def sig_path_of(xml_path: Path) -> Path:
    """``<name>.sig`` beside ``<name>.xml`` (node prefixes have dots: not Path.with_suffix)."""
    return xml_path.with_name(xml_path.name.removesuffix(".xml") + ".sig")


def file_digest(stream: IO[bytes]) -> bytes:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.digest()


def path_digest(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as handle:
        return file_digest(handle)


def sign_digest(digest: bytes, key: Ed25519PrivateKey) -> bytes:
    return key.sign(digest)


def sign(data: bytes, key: Ed25519PrivateKey) -> bytes:
    return key.sign(hashlib.sha256(data).digest())


def check(digest: bytes, signature: bytes, public_key: Ed25519PublicKey) -> None:
    """Nothing when ``signature`` is the key's signature of ``digest``; else :class:`EscrowInvalid`."""
    if len(signature) != SIGNATURE_BYTES:
        raise EscrowInvalid("a deposit signature is 64 bytes")
    try:
        public_key.verify(signature, digest)
    except InvalidSignature:
        raise EscrowInvalid("the deposit's signature does not verify with the node's key") from None
