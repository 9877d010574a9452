"""Public-key authentication: Handle.Net v9 sessions and challenge-response tokens, attacked."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy import update

from foundation.crypto.pubkeys import new_sm2_private_key, public_jwk, sign
from registry.accounts.models import KeySession
from registry.kernel.clock import utcnow
from tests.factories import onboard

URL_VALUE = {"index": 1, "type": "URL", "data": {"format": "string", "value": "https://example.com/coil"}}
KEY_INDEX = 300  # replaces the secret: the identity then authenticates by key only

KEY_MAKERS = {
    "Ed25519": ed25519.Ed25519PrivateKey.generate,
    "ECDSA-P256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "RSA": lambda: rsa.generate_private_key(65537, 2048),
    "SM2": new_sm2_private_key,
}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def publish_key(client, tenant, private_key, index: int = KEY_INDEX) -> str:
    """Put the key's public half into the tenant's admin identity record; returns the identity."""
    value = {"index": index, "type": "HS_PUBKEY", "data": {"format": "key", "value": public_jwk(private_key)}}
    response = await client.put(
        f"/api/handles/{tenant.prefix}/admin?index={index}", json=[value], headers=tenant.handle_admin
    )
    assert response.status_code in (200, 201), response.text
    return f"{index}:{tenant.prefix}/admin"


def signed_header(
    session_id: str, nonce: str, identity: str, private_key, *, cnonce: bytes | None = None, alg: str | None = None
) -> dict[str, str]:
    cnonce = cnonce or secrets.token_bytes(16)
    alg = alg or ("SM3" if isinstance(private_key, str) else "SHA256")
    signature = sign(private_key, base64.b64decode(nonce) + cnonce, alg)
    return {
        "Authorization": f'Handle version="0", sessionId="{session_id}", id="{identity}", type="HS_PUBKEY", '
        f'cnonce="{b64(cnonce)}", alg="{alg}", signature="{b64(signature)}"'
    }


def session_header(session_id: str) -> dict[str, str]:
    return {"Authorization": f'Handle version="0", sessionId="{session_id}"'}


async def open_session(client) -> tuple[str, str]:
    response = await client.post("/api/sessions")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["authenticated"] is False
    return body["sessionId"], body["nonce"]


@pytest.mark.parametrize("kind", list(KEY_MAKERS))
async def test_session_authenticated_by_each_key_kind_writes_and_ends(client, kind):
    tenant = await onboard(client, f"keys{kind.lower().replace('-', '')}")
    private_key = KEY_MAKERS[kind]()
    identity = await publish_key(client, tenant, private_key)
    session_id, nonce = await open_session(client)

    response = await client.put("/api/sessions/this", headers=signed_header(session_id, nonce, identity, private_key))
    assert response.status_code == 200, response.text
    assert response.json() == {"sessionId": session_id, "nonce": nonce, "authenticated": True, "id": identity}
    state = (await client.get("/api/sessions/this", headers=session_header(session_id))).json()
    assert state["authenticated"] is True and state["id"] == identity

    handle = f"{tenant.prefix}/by-session"
    written = await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=session_header(session_id))
    assert written.status_code == 201, written.text
    assert (await client.get(f"/api/handles/{handle}")).json()["values"][0]["data"] == URL_VALUE["data"]

    assert (await client.delete("/api/sessions/this", headers=session_header(session_id))).status_code == 200
    after = await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=session_header(session_id))
    assert after.status_code == 401 and after.json()["error"] == "auth.session_unknown"


async def test_session_refusals(client, fresh_node):
    owner = await onboard(client, "sessowner")
    other = await onboard(client, "sessother")
    owner_key, other_key = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    identity = await publish_key(client, owner, owner_key)
    other_identity = await publish_key(client, other, other_key)
    handle = f"{owner.prefix}/guarded"

    async def refused(headers, error, path="/api/sessions/this"):
        response = await client.put(path, headers=headers, json=[URL_VALUE])
        assert response.status_code == 401, response.text
        assert response.json()["responseCode"] == 402 and response.json()["error"] == error

    # a signature by another key, and the key of another identity claiming this one
    session_id, nonce = await open_session(client)
    await refused(signed_header(session_id, nonce, identity, other_key), "auth.bad_signature")
    # a signature of another session's nonce
    _, foreign_nonce = await open_session(client)
    await refused(signed_header(session_id, foreign_nonce, identity, owner_key), "auth.bad_signature")
    # an unauthenticated session cannot write
    await refused(session_header(session_id), "auth.session_unauthenticated", f"/api/handles/{handle}")

    # a replayed client nonce: the same signed header a second time, also with the nonce spelt otherwise (URL-safe
    # base64 without padding); a GET authenticates for good too, although its own transaction never commits
    cnonce = secrets.token_bytes(16)
    header = signed_header(session_id, nonce, identity, owner_key, cnonce=cnonce)
    assert (await client.get("/api/handles/88.118/none", headers=header)).status_code == 404
    await refused(header, "auth.replayed")
    respelt = header["Authorization"].replace(
        f'cnonce="{b64(cnonce)}"', f'cnonce="{base64.urlsafe_b64encode(cnonce).decode().rstrip("=")}"'
    )
    await refused({"Authorization": respelt}, "auth.replayed")

    # the owner's session writes only under the owner's prefix, never under another enterprise's
    intrusion = await client.put(
        f"/api/handles/{other.prefix}/planted", json=[URL_VALUE], headers=session_header(session_id)
    )
    assert intrusion.status_code == 403 and intrusion.json()["responseCode"] == 400
    # the other enterprise's key cannot open the owner's identity, only its own
    other_session, other_nonce = await open_session(client)
    await refused(signed_header(other_session, other_nonce, identity, other_key), "auth.bad_signature")
    ok = await client.put(
        "/api/sessions/this", headers=signed_header(other_session, other_nonce, other_identity, other_key)
    )
    assert ok.status_code == 200

    # an expired session
    async with fresh_node.unit_of_work() as session:
        await session.execute(update(KeySession).values(expires_at=utcnow()))
    await refused(session_header(session_id), "auth.session_unknown", f"/api/handles/{handle}")
    assert (await client.get(f"/api/handles/{handle}")).status_code == 404  # nothing was written by any refusal


async def test_hs_pubkey_values_must_be_usable_keys(client):
    tenant = await onboard(client, "badkey")
    for data in (
        {"format": "key", "value": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}},
        {"format": "key", "value": {"kty": "OKP", "crv": "Ed25519", "x": 5}},
        {"format": "key", "value": '{"a":' * 5000 + "1" + "}" * 5000},
        {
            "format": "key",
            "value": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEz5s1\n-----END PUBLIC KEY-----",
        },
        {"format": "key", "value": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},  # far too short
        {"format": "key", "value": "not a key"},
        {"format": "string", "value": "-----BEGIN PUBLIC KEY-----"},
    ):
        response = await client.put(
            f"/api/handles/{tenant.prefix}/k",
            headers=tenant.handle_admin,
            json=[URL_VALUE, {"index": 300, "type": "HS_PUBKEY", "data": data}],
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "value.key_invalid"


async def challenge(client, identity: str) -> str:
    response = await client.get("/identity/challenge", params={"handle": identity})
    assert response.status_code == 200, response.text
    return response.json()["data"]["nonce"]


async def test_challenge_response_gives_a_short_lived_token(client, fresh_node):
    tenant = await onboard(client, "challenged")
    private_key = new_sm2_private_key()
    identity = await publish_key(client, tenant, private_key)

    nonce = await challenge(client, identity)
    answer = {
        "handle": identity,
        "nonce": nonce,
        "alg": "SM3",
        "signature": b64(sign(private_key, base64.b64decode(nonce))),
    }
    response = await client.post("/identity/verify-response", json=answer)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["tokenType"] == "Bearer" and 0 < data["expiresIn"] <= 900 and data["handle"] == identity
    bearer = {"Authorization": f"Bearer {data['token']}"}
    created = await client.put(f"/api/handles/{tenant.prefix}/by-token", json=[URL_VALUE], headers=bearer)
    assert created.status_code == 201, created.text

    # the same answer again: the challenge is used up
    replay = await client.post("/identity/verify-response", json=answer)
    assert replay.status_code == 401 and replay.json()["error"] == "auth.challenge_unknown"
    # a wrong answer uses the challenge up too: no second guess
    nonce = await challenge(client, identity)
    wrong = await client.post("/identity/verify-response", json=answer | {"nonce": nonce})
    assert wrong.status_code == 401 and wrong.json()["error"] == "auth.bad_signature"
    right = answer | {"nonce": nonce, "signature": b64(sign(private_key, base64.b64decode(nonce)))}
    late = await client.post("/identity/verify-response", json=right)
    assert late.status_code == 401 and late.json()["error"] == "auth.challenge_unknown"
    # a challenge for one identity cannot be answered for another
    nonce = await challenge(client, f"301:{tenant.prefix}/admin")
    crossed = await client.post("/identity/verify-response", json=right | {"nonce": nonce})
    assert crossed.status_code == 401 and crossed.json()["error"] == "auth.challenge_unknown"

    # an expired token
    async with fresh_node.unit_of_work() as session:
        await session.execute(update(KeySession).values(expires_at=utcnow()))
    expired = await client.put(f"/api/handles/{tenant.prefix}/late", json=[URL_VALUE], headers=bearer)
    assert expired.status_code == 401 and expired.json()["error"] == "auth.bad_token"


async def test_odd_identities_are_refused_not_crashed(client):
    for handle in ("\u00b2:88.118/admin", "300:" + "x" * 400 + "/admin", "admin"):
        response = await client.get("/identity/challenge", params={"handle": handle})
        assert response.status_code == 400 and response.json()["error"] == "auth.bad_identity", response.text
    superscript = {"Authorization": "Basic " + b64("\u00b2:88.118/admin:secret".encode())}
    assert (await client.put("/api/handles/88.118/x", json=[URL_VALUE], headers=superscript)).status_code == 401
    assert (await client.get("/api/handles/88.118/x", params={"index": "\u00b2"})).status_code == 400


async def test_open_sessions_and_challenges_are_bounded(fresh_node, database_url):
    """Anyone may open sessions and challenges; the node keeps a bounded number open and refuses more with 429
    until some expire."""
    import httpx

    from node.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, key_sessions_max_open=3), db=fresh_node)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            await open_session(client)
            await open_session(client)
            assert (await client.get("/identity/challenge", params={"handle": "300:88.118.1/admin"})).status_code == 200
            full = await client.post("/api/sessions")
            assert full.status_code == 429 and full.json()["error"] == "auth.too_many_open", full.text
            assert int(full.headers["Retry-After"]) > 0
            refused = await client.get("/identity/challenge", params={"handle": "300:88.118.1/admin"})
            assert refused.status_code == 429 and refused.json()["error"] == "auth.too_many_open"

            async with fresh_node.unit_of_work() as session:  # one of them expires
                await session.execute(
                    update(KeySession).where(KeySession.kind == "challenge").values(expires_at=utcnow())
                )
            await open_session(client)
