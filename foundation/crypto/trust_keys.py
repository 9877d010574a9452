"""The private keys that issue Handle certificates and signatures (``HS_CERT``, ``HS_SIGNATURE``): RSA (JWS ``RS256``),
ECDSA P-256 (``ES256``) and SM2 with SM3 (``SM2256``, the name IDIS's Handle SDK writes in the JWS header).

A key lives in a file of its own, mode 0600: RSA and P-256 as PKCS#8 PEM; SM2, which ``cryptography`` does not
read, as its 64 hex digits between ``-----BEGIN SM2 PRIVATE KEY-----`` lines. Ed25519 is not offered: Handle.Net's
verifier (``net.handle.hdllib.trust.JsonWebSignatureImpl``) knows RS and DS algorithms only, and IDIS adds SM2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from foundation.crypto.pubkeys import new_sm2_private_key, public_jwk, sign

ALGORITHMS = ("RS256", "ES256", "SM2256")
_SM2_BEGIN, _SM2_END = "-----BEGIN SM2 PRIVATE KEY-----", "-----END SM2 PRIVATE KEY-----"


@dataclass(frozen=True)
class TrustKey:
    """A private key and the JWS algorithm it signs with."""

    alg: str
    key: Any  # a cryptography private key, or an SM2 private key as 64 hex digits

    def sign(self, message: bytes) -> bytes:
        """The JWS signature octets: PKCS#1 v1.5 for RS256, r‖s (RFC 7518 section 3.4) for ES256, and for SM2 the DER
        sequence of r and s that IDIS's SDK (hutool's ``SM2.sign``) writes."""
        if self.alg == "RS256":
            return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        if self.alg == "ES256":
            r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        raw = sign(self.key, message)  # gmssl: r‖s, SM3 over Z_A‖message with the default user id
        return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))

    def public_jwk(self) -> dict[str, str]:
        return public_jwk(self.key)


def _alg_of(key: Any) -> str:
    if isinstance(key, str):
        return "SM2256"
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise ValueError("a trust key is RSA, ECDSA P-256 or SM2")


def trust_key(key: Any) -> TrustKey:
    """A ``TrustKey`` around a private key (``cryptography`` RSA or P-256, or SM2 hex)."""
    return TrustKey(_alg_of(key), key)


def new_trust_key(alg: str) -> TrustKey:
    if alg == "RS256":
        return TrustKey(alg, rsa.generate_private_key(65537, 2048))
    if alg == "ES256":
        return TrustKey(alg, ec.generate_private_key(ec.SECP256R1()))
    if alg == "SM2256":
        return TrustKey(alg, new_sm2_private_key())
    raise ValueError(f"unknown trust key algorithm {alg!r}: one of {', '.join(ALGORITHMS)}")


def trust_key_pem(key: TrustKey) -> bytes:
    if isinstance(key.key, str):
        return f"{_SM2_BEGIN}\n{key.key}\n{_SM2_END}\n".encode("ascii")
    return key.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_trust_key(path: str) -> TrustKey:
    with open(path, "rb") as handle:
        raw = handle.read()
    text = raw.decode("ascii", errors="replace")
    if _SM2_BEGIN in text:
        hex_key = text.split(_SM2_BEGIN, 1)[1].split(_SM2_END, 1)[0].strip()
        if len(hex_key) != 64:
            raise ValueError(f"{path} does not hold an SM2 private key")
        int(hex_key, 16)
        return TrustKey("SM2256", hex_key.lower())
    return trust_key(serialization.load_pem_private_key(raw, password=None))


def ensure_trust_key(path: str, alg: str) -> tuple[bool, TrustKey]:
    """Create a key of ``alg`` at ``path`` (mode 0600) unless one exists. Returns (created, the key in the file)."""
    if os.path.exists(path):
        return False, load_trust_key(path)
    key = new_trust_key(alg)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(trust_key_pem(key))
    return True, key
