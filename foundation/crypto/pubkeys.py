"""Public keys of identities (``HS_PUBKEY`` values) and the signatures they verify.

A key is written as a JWK (object or JSON text) or as a PEM ``SubjectPublicKeyInfo``. Supported: Ed25519
(``OKP``/``Ed25519``), ECDSA P-256 (``EC``/``P-256``), RSA and DSA (2048 bits or more; DSA as PEM only, as Handle.Net
identities of old carry it) through ``cryptography``, and SM2
(``EC``/``SM2``, signatures with SM3 and the default user id) through ``gmssl`` for enterprises that must use
national cryptography. Every kind answers the same ``verify(signature, message, alg)``.

Signatures: Ed25519 64 bytes; ECDSA DER or raw r‖s; RSA PKCS#1 v1.5; DSA DER; SM2 raw r‖s (64 bytes) or DER.
``alg`` names the digest (``SHA256`` by default, as Handle.Net sends it; ``SM3`` for SM2).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from foundation.errors import KeyInvalid

_DIGESTS = {"SHA256": hashes.SHA256, "SHA-256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}
MIN_RSA_BITS = 2048

# SM2 curve (GB/T 32918.5)
_SM2_P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
_SM2_A = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC", 16)
_SM2_B = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)
_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def b64decode_any(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class PublicKey:
    kind: str  # "Ed25519", "ECDSA-P256", "RSA" or "SM2"
    key: Any  # a cryptography public key, or the SM2 point as 128 hex digits x‖y

    def verify(self, signature: bytes, message: bytes, alg: str | None = None) -> bool:
        alg = (alg or ("SM3" if self.kind == "SM2" else "SHA256")).upper()
        try:
            if self.kind == "Ed25519":
                self.key.verify(signature, message)
            elif self.kind == "ECDSA-P256":
                self.key.verify(_der_signature(signature, 32), message, ec.ECDSA(_digest(alg)()))
            elif self.kind == "RSA":
                self.key.verify(signature, message, padding.PKCS1v15(), _digest(alg)())
            elif self.kind == "DSA":
                self.key.verify(signature, message, _digest(alg)())
            else:
                return alg == "SM3" and _sm2_verify(self.key, signature, message)
        except (InvalidSignature, ValueError, TypeError, OverflowError):
            return False
        return True


def _digest(alg: str):
    if alg not in _DIGESTS:
        raise ValueError(f"unsupported digest {alg}")
    return _DIGESTS[alg]


def _der_signature(signature: bytes, size: int) -> bytes:
    if len(signature) == 2 * size:  # raw r‖s (JOSE form)
        return encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
    return signature


def _raw_rs(signature: bytes, size: int) -> tuple[int, int]:
    if len(signature) == 2 * size:
        return int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    return decode_dss_signature(signature)


def _gmssl_sm2(private_hex: str | None, point_hex: str) -> Any:
    from gmssl import sm2

    engine = sm2.CryptSM2(private_key=private_hex, public_key="")
    # set after construction: the constructor lstrip("04")s the key, which eats a point whose x begins 04 or 4
    engine.public_key = point_hex
    return engine


def _sm2_verify(point_hex: str, signature: bytes, message: bytes) -> bool:
    r, s = _raw_rs(signature, 32)
    if not (0 < r < _SM2_N and 0 < s < _SM2_N):
        return False
    return bool(_gmssl_sm2(None, point_hex).verify_with_sm3(f"{r:064x}{s:064x}", message))


def _sm2_point(x: bytes, y: bytes) -> str:
    xi, yi = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    if len(x) != 32 or len(y) != 32 or (yi * yi - xi * xi * xi - _SM2_A * xi - _SM2_B) % _SM2_P:
        raise ValueError("not a point of the SM2 curve")
    return f"{xi:064x}{yi:064x}"


def _from_jwk(jwk: dict[str, Any]) -> PublicKey:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        return PublicKey("Ed25519", ed25519.Ed25519PublicKey.from_public_bytes(b64decode_any(jwk["x"])))
    if kty == "EC" and crv == "P-256":
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64decode_any(jwk["x"]), "big"),
            int.from_bytes(b64decode_any(jwk["y"]), "big"),
            ec.SECP256R1(),
        )
        return PublicKey("ECDSA-P256", numbers.public_key())
    if kty == "EC" and crv == "SM2":
        return PublicKey("SM2", _sm2_point(b64decode_any(jwk["x"]), b64decode_any(jwk["y"])))
    if kty == "RSA":
        rsa_numbers = rsa.RSAPublicNumbers(
            int.from_bytes(b64decode_any(jwk["e"]), "big"), int.from_bytes(b64decode_any(jwk["n"]), "big")
        )
        return _checked_rsa(rsa_numbers.public_key())
    raise ValueError(f"unsupported key type kty={kty!r} crv={crv!r}")


def _checked_rsa(key: rsa.RSAPublicKey) -> PublicKey:
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    return PublicKey("RSA", key)


def _from_pem(text: str) -> PublicKey:
    key = _pem_key(text)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey("Ed25519", key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey("ECDSA-P256", key)
    if isinstance(key, rsa.RSAPublicKey):
        return _checked_rsa(key)
    if isinstance(key, dsa.DSAPublicKey):  # Handle.Net's older identities; written as PEM (JWK has no DSA)
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"DSA keys must have at least {MIN_RSA_BITS} bits")
        return PublicKey("DSA", key)
    raise ValueError("unsupported key in PEM (Ed25519, P-256, RSA or DSA; SM2 keys are written as JWK)")


def _pem_key(text: str):
    try:
        return serialization.load_pem_public_key(text.encode("utf-8"))
    except UnsupportedAlgorithm:
        raise ValueError("unsupported key in PEM (SM2 keys are written as JWK: kty EC, crv SM2)") from None


def load_public_key(raw: Any) -> PublicKey:
    """A key from ``HS_PUBKEY`` data (its ``value``): JWK object, JWK JSON text or PEM. ValueError when unusable."""
    try:
        if isinstance(raw, str) and raw.lstrip().startswith("{"):
            raw = json.loads(raw)
        if isinstance(raw, dict):
            if not all(isinstance(raw.get(k, ""), str) for k in ("kty", "crv", "x", "y", "n", "e")):
                raise ValueError("JWK members are strings")
            return _from_jwk(raw)
        if isinstance(raw, str) and "BEGIN PUBLIC KEY" in raw:
            return _from_pem(raw)
    except ValueError:
        raise
    except (KeyError, TypeError, AttributeError, RecursionError, binascii.Error, UnsupportedAlgorithm) as exc:
        # untrusted text: every way it can be malformed is the client's mistake, never the node's
        raise ValueError(f"malformed key ({type(exc).__name__})") from None
    raise ValueError("a key is a JWK (object or JSON text) or a PEM public key")


def check_public_key(raw: Any, where: str) -> None:
    """Refuse an ``HS_PUBKEY`` value nobody could authenticate with."""
    try:
        load_public_key(raw)
    except ValueError as exc:
        raise KeyInvalid(f"{where}: HS_PUBKEY is not a usable public key: {exc}") from None


# ---- the client side: what an enterprise application runs (also used by the tests and the docs' examples) ---------


def sign(private_key: Any, message: bytes, alg: str | None = None) -> bytes:
    """Sign as a client would: a ``cryptography`` private key, or an SM2 private key as 64 hex digits."""
    if isinstance(private_key, str):
        signature = _gmssl_sm2(private_key, sm2_public_point(private_key)).sign_with_sm3(message)
        return binascii.unhexlify(signature)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    digest = _digest((alg or "SHA256").upper())()
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(message, ec.ECDSA(digest))
    return private_key.sign(message, padding.PKCS1v15(), digest)


def sm2_public_point(private_hex: str) -> str:
    from gmssl import sm2

    return _gmssl_sm2(private_hex, "")._kg(int(private_hex, 16), sm2.default_ecc_table["g"])


def new_sm2_private_key() -> str:
    import secrets

    return f"{secrets.randbelow(_SM2_N - 2) + 1:064x}"


def public_jwk(private_key: Any) -> dict[str, str]:
    """The JWK of a private key's public half: what goes into ``HS_PUBKEY``."""
    if isinstance(private_key, str):
        point = sm2_public_point(private_key)
        return {
            "kty": "EC",
            "crv": "SM2",
            "x": b64url(bytes.fromhex(point[:64])),
            "y": b64url(bytes.fromhex(point[64:])),
        }
    public = private_key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
    numbers = public.public_numbers()
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
    return {
        "kty": "RSA",
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }
