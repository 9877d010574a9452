"""The Handle protocol's secret-key answer to a challenge, checked (RFC 3652 section 3.5.3; Handle.Net 9's
``Util.doMac``): ``data`` is nonce ‖ request digest, the answer's first octet names the algorithm.

- 0x01 MD5, 0x02 SHA-1, 0x03 SHA-256: H(secret ‖ data ‖ secret), the RFC's form;
- 0x12 HMAC-SHA1, 0x13 HMAC-SHA256: HMAC(secret, data);
- 0x22 PBKDF2-HMAC-SHA1 (Handle.Net from protocol 2.7): salt, iterations and key length chosen by the client,
  then HMAC-SHA1 keyed with PBKDF2(secret, salt, iterations).
Before protocol 2.1 the whole answer is an MD5 of the RFC's form, with no algorithm octet.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

MD5, SHA1, SHA256, HMAC_SHA1, HMAC_SHA256, PBKDF2_HMAC_SHA1 = 0x01, 0x02, 0x03, 0x12, 0x13, 0x22
MAX_ITERATIONS = 100_000  # a client chooses them: bounded, so an answer cannot make the node spin
MAX_KEY_BITS = 512


def _keyed_digest(name: str, secret: bytes, data: bytes) -> bytes:
    return hashlib.new(name, secret + data + secret).digest()


def _array(raw: bytes, at: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from(">I", raw, at)
    if length > len(raw) - at - 4:
        raise ValueError("an array is longer than the answer")
    return raw[at + 4 : at + 4 + length], at + 4 + length


def _pbkdf2_password(secret: bytes) -> bytes:
    # Handle.Net hands each octet of the secret to PBKDF2WithHmacSHA1 as a Java char, which encodes chars as UTF-8
    return secret.decode("latin-1").encode("utf-8")


def _pbkdf2_answer(secret: bytes, data: bytes, params: bytes) -> bool:
    salt, at = _array(params, 0)
    iterations, key_bits = struct.unpack_from(">II", params, at)
    mac, _ = _array(params, at + 8)
    if not 0 < iterations <= MAX_ITERATIONS or not 0 < key_bits <= MAX_KEY_BITS or key_bits % 8:
        return False
    key = hashlib.pbkdf2_hmac("sha1", _pbkdf2_password(secret), salt, iterations, key_bits // 8)
    return hmac.compare_digest(hmac.new(key, data, "sha1").digest(), mac)


def answer_matches(secret: bytes, data: bytes, answer: bytes, *, legacy: bool = False) -> bool:
    """True when ``answer`` is the secret's answer to ``data`` (``legacy``: a protocol 2.0 client's bare MD5)."""
    if legacy:
        return hmac.compare_digest(_keyed_digest("md5", secret, data), answer)
    if not answer:
        return False
    algorithm, rest = answer[0], answer[1:]
    try:
        if algorithm == PBKDF2_HMAC_SHA1:
            return _pbkdf2_answer(secret, data, rest)
    except (struct.error, ValueError):
        return False
    expected = {
        MD5: lambda: _keyed_digest("md5", secret, data),
        SHA1: lambda: _keyed_digest("sha1", secret, data),
        SHA256: lambda: _keyed_digest("sha256", secret, data),
        HMAC_SHA1: lambda: hmac.new(secret, data, "sha1").digest(),
        HMAC_SHA256: lambda: hmac.new(secret, data, "sha256").digest(),
    }.get(algorithm)
    return expected is not None and hmac.compare_digest(expected(), rest)


def handle_net_hashed(secret: bytes) -> bytes:
    """What a Handle.Net client built with ``hash=true`` uses as the secret: the lower-case hex of SHA-1."""
    return hashlib.sha1(secret).hexdigest().encode("ascii")  # noqa: S324 - Handle.Net's encoding, not ours
