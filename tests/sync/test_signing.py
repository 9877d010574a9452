"""The node's signing key and the signature of upward requests."""

import os
import stat

from foundation.crypto.keys import ensure_signing_key, load_signing_key
from foundation.crypto.signing import sign, verify


def test_init_key_is_private_and_stable(tmp_path):
    path = str(tmp_path / "node.key")
    created, key_id = ensure_signing_key(path)
    assert created and len(key_id) == 16
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ensure_signing_key(path) == (False, key_id)


def test_signatures_verify_and_tampering_is_detected(tmp_path):
    path = str(tmp_path / "node.key")
    ensure_signing_key(path)
    key = load_signing_key(path)
    body = b'{"node":"88.118","entries":[{"seq":1}]}'
    headers = sign(body, key)
    assert verify(body, headers, key.public_key())
    assert not verify(body.replace(b"1}", b"2}"), headers, key.public_key())
    other_path = str(tmp_path / "other.key")
    ensure_signing_key(other_path)
    assert not verify(body, headers, load_signing_key(other_path).public_key())
    forged = dict(headers, **{"X-Secnode-Signature": "AAAA"})
    assert not verify(body, forged, key.public_key())
