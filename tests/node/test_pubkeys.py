"""SM2 keys whatever their coordinates: gmssl mangles a public point whose hex begins with 04 unless guarded."""

from __future__ import annotations

import json

import pytest

from foundation.crypto.pubkeys import load_public_key, public_jwk, sign, sm2_public_point

# private keys chosen so that the public point's hex begins "044" and "04": lstrip("04") would eat 3 and 2 digits
LEADING_04_KEYS = [
    "57abac1387a86adf145a53b74acc9745bd2d7c84024f2f6e79a1e445bc876ff8",
    "71be138c397e9896f562cbf5b73503a480bc9d945a0f4742f113792daff1d211",
]


@pytest.mark.parametrize("private_key", LEADING_04_KEYS)
def test_sm2_key_whose_point_begins_04_signs_and_verifies(private_key):
    assert sm2_public_point(private_key).startswith("04")
    key = load_public_key(json.dumps(public_jwk(private_key)))

    signature = sign(private_key, b"server nonce||client nonce")
    assert key.verify(signature, b"server nonce||client nonce", "SM3")
    assert not key.verify(signature, b"another message", "SM3")
