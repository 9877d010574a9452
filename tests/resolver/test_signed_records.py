"""Signed records: HS_SIGNATURE on resolution, the verification routine, and ``secnode verify`` on a real node."""

from __future__ import annotations

import copy
import subprocess
import sys
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto.keys import ensure_signing_key, load_signing_key, public_key_raw
from foundation.crypto.record_signatures import SignatureInvalid, sign_values, verify_answer
from node.app import create_app
from tests.conftest import ADMIN_PASSWORD, make_settings
from tests.factories import basic, onboard

VALUES = [
    {"index": 1, "type": "URL", "data": {"format": "string", "value": "https://example.com/coil/7"}},
    {"index": 2, "type": "EMAIL", "data": {"format": "string", "value": "qa@example.com"}},
    {"index": 5, "type": "NOTE", "data": "internal", "permissions": "1100"},
]


@pytest.fixture
async def signing_node(fresh_node, database_url, tmp_path):
    key_file = str(tmp_path / "node.key")
    ensure_signing_key(key_file)
    settings = make_settings(database_url, node_key_file=key_file)
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, load_signing_key(key_file)


async def test_signed_answers_verify_value_by_value_and_refuse_tampering(signing_node):
    client, key = signing_node
    tenant = await onboard(client, "signer")
    handle = f"{tenant.prefix}/COIL-7"
    assert (await client.put(f"/api/handles/{handle}", json=VALUES, headers=tenant.handle_admin)).status_code == 201
    public = key.public_key()

    answer = (await client.get(f"/api/handles/{handle}", params={"signed": "true"})).json()
    assert [v["type"] for v in answer["values"]][-1] == "HS_SIGNATURE"
    assert verify_answer(answer, public).indexes == (1, 2)  # the private NOTE is not in an anonymous answer
    filtered = (await client.get(f"/api/handles/{handle}", params={"signed": "true", "type": "EMAIL"})).json()
    assert verify_answer(filtered, public).indexes == (2,)
    owner = (await client.get(f"/api/handles/{handle}", params={"signed": "true"}, headers=tenant.handle_admin)).json()
    assert 5 in verify_answer(owner, public).indexes
    assert all(v["type"] != "HS_SIGNATURE" for v in (await client.get(f"/api/handles/{handle}")).json()["values"])
    key_info = (await client.get("/.well-known/secnode/signing-key")).json()
    assert key_info["nodePrefix"] == "88.118" and len(key_info["keyId"]) == 16

    tampered = copy.deepcopy(answer)
    tampered["values"][0]["data"]["value"] = "https://evil.example.com/coil/7"
    with pytest.raises(SignatureInvalid, match="index 1"):
        verify_answer(tampered, public)
    smuggled = copy.deepcopy(filtered)
    smuggled["values"].insert(
        0,
        {
            "index": 9,
            "type": "URL",
            "data": {"format": "string", "value": "https://x"},
            "ttl": 86400,
            "timestamp": answer["values"][0]["timestamp"],
        },
    )
    with pytest.raises(SignatureInvalid, match="index 9"):
        verify_answer(smuggled, public)
    # an intermediary answering with another identifier's (correctly signed) record, or leaving a value out
    with pytest.raises(SignatureInvalid, match="not " + f"{tenant.prefix}/COIL-6"):
        verify_answer(answer, public, expected_handle=f"{tenant.prefix}/COIL-6")
    assert verify_answer(answer, public, expected_handle=handle, require_complete=True).indexes == (1, 2)
    with pytest.raises(SignatureInvalid, match=r"missing from the answer: indexes \[1\]"):
        verify_answer(filtered, public, require_complete=True)
    with pytest.raises(SignatureInvalid, match="not a JWS"):
        verify_answer({"handle": handle, "values": [{"type": "HS_SIGNATURE", "data": "x.y.z"}]}, public)
    other_handle = copy.deepcopy(answer) | {"handle": f"{tenant.prefix}/COIL-8"}
    with pytest.raises(SignatureInvalid, match="is about"):
        verify_answer(other_handle, public)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_answer(answer, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(SignatureInvalid, match="expired"):
        verify_answer(answer, public, now=time.time() + 2 * 86400)
    # a node vouches only for identifiers under its own prefix
    foreign = {"handle": handle, "values": answer["values"][:-1]}
    foreign["values"].append(sign_values(handle, foreign["values"], key, "88.119", 60))
    with pytest.raises(SignatureInvalid, match="cannot vouch"):
        verify_answer(foreign, public)


def _secnode_verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "verify", *args], capture_output=True, text=True, timeout=60
    )


def test_secnode_verify_checks_a_record_fetched_from_a_running_node(fresh_node, database_url, tmp_path):
    from tests.servers import running_node

    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SECNODE_REDIS_URL": "",
    }
    with running_node(env, tmp_path) as url:
        handle = "88.118/signed-by-node"
        written = httpx.put(
            f"{url}/api/handles/{handle}", json=VALUES[:2], headers=basic("300:0.NA/88.118", ADMIN_PASSWORD), timeout=30
        )
        assert written.status_code == 201, written.text
        node_key = base64_public(tmp_path / "secnode-node.key")

        trusted = _secnode_verify(handle, "--url", url, "--public-key", node_key)
        assert trusted.returncode == 0, trusted.stdout + trusted.stderr
        assert "verified" in trusted.stdout and "values 1, 2" in trusted.stdout
        own_word = _secnode_verify(handle, "--url", url)
        assert own_word.returncode == 0 and "own word" in own_word.stdout
        stranger = base64_public_of(Ed25519PrivateKey.generate())
        wrong = _secnode_verify(handle, "--url", url, "--public-key", stranger)
        assert wrong.returncode == 1 and "NOT VERIFIED" in wrong.stdout
        missing = _secnode_verify("88.118/no-such-record", "--url", url)
        assert missing.returncode == 1


def base64_public(path) -> str:
    return base64_public_of(load_signing_key(str(path)))


def base64_public_of(key) -> str:
    import base64

    return base64.b64encode(public_key_raw(key.public_key())).decode()
