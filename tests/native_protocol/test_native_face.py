"""The native Handle protocol face, driven by the client written from RFC 3652 (``rfc_client``), on real
PostgreSQL and Redis, beside the HTTP faces of the same application."""

from __future__ import annotations

import asyncio
import base64
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.config import Settings
from foundation.crypto.keys import ensure_signing_key, load_signing_key
from foundation.crypto.pubkeys import new_sm2_private_key, public_jwk
from foundation.db import Database
from node.app import create_app
from tests.conftest import ADMIN_PASSWORD
from tests.factories import Tenant, onboard
from tests.native_protocol import rfc_client as hdl

HOST = "127.0.0.1"
KEY_INDEX = 300
RSA_KEY = rsa.generate_private_key(65537, 2048)


@dataclass
class Node:
    http: httpx.AsyncClient
    port: int
    settings: Settings
    key: Ed25519PrivateKey

    def udp(self, **kw) -> hdl.HandleClient:
        return hdl.HandleClient(HOST, self.port, transport="udp", timeout=3.0, **kw)

    def tcp(self, **kw) -> hdl.HandleClient:
        return hdl.HandleClient(HOST, self.port, transport="tcp", timeout=3.0, **kw)


async def audit_entries(db: Database, after: int = 0) -> list[tuple]:
    async with db.read_session() as session:
        rows = await session.execute(
            text("SELECT actor, action, source, result FROM audit_log WHERE seq > :after ORDER BY seq"),
            {"after": after},
        )
        return [tuple(r) for r in rows]


@pytest.fixture
async def node(fresh_node: Database, settings: Settings, tmp_path) -> AsyncIterator[Node]:
    key_file = str(tmp_path / "node.key")
    ensure_signing_key(key_file)  # the node's key: published in its site, and the seal of HS_SECKEY secrets
    settings = settings.model_copy(update={"native_enabled": True, "native_port": 0, "node_key_file": key_file})
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert app.state.native.udp_port == app.state.native.tcp_port
            yield Node(http, app.state.native.tcp_port, settings, load_signing_key(key_file))


def key_data(private_key) -> object:
    """HS_PUBKEY data as the REST face takes it: a JWK, or PEM for DSA (JWK has no DSA)."""
    if isinstance(private_key, dsa.DSAPrivateKey):
        pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode()
    return public_jwk(private_key)


async def publish_key(node: Node, tenant: Tenant, private_key, index: int = KEY_INDEX) -> hdl.PublicKeyAuth:
    """The key replaces the administrator's secret at index 300: REST writes with Basic credentials come first."""
    value = {"index": index, "type": "HS_PUBKEY", "data": {"format": "key", "value": key_data(private_key)}}
    response = await node.http.put(
        f"/api/handles/{tenant.prefix}/admin?index={index}", json=[value], headers=tenant.handle_admin
    )
    assert response.status_code in (200, 201), response.text
    return hdl.PublicKeyAuth(f"{tenant.prefix}/admin", index, private_key)


async def seal_secret(node: Node, tenant: Tenant) -> None:
    """Send the administrator's secret again: a prefix's secret comes from its application as a hash only, and the
    node seals a secret when it receives it."""
    value = {"index": 300, "type": "HS_SECKEY", "data": tenant.password, "permissions": "1100"}
    response = await node.http.put(
        f"/api/handles/{tenant.prefix}/admin?index=300", json=[value], headers=tenant.handle_admin
    )
    assert response.status_code == 200, response.text


async def rest_create(node: Node, tenant: Tenant, suffix: str, url: str, **extra) -> str:
    handle = f"{tenant.prefix}/{suffix}"
    values = [{"index": 1, "type": "URL", "data": {"format": "string", "value": url}, **extra}]
    response = await node.http.put(f"/api/handles/{handle}", json=values, headers=tenant.handle_admin)
    assert response.status_code == 201, response.text
    return handle


# ---- resolution and site information -------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_resolution_of_a_record_written_over_rest(node: Node, transport: str):
    tenant = await onboard(node.http, "nativeread")
    handle = await rest_create(node, tenant, "COIL-1", "https://example.com/coil/1")
    client = node.udp() if transport == "udp" else node.tcp()

    answer = await client.resolve(handle)
    assert answer.response_code == hdl.RC_SUCCESS, answer.message
    assert answer.handle == handle
    assert answer.value(1).type == "URL" and answer.value(1).text() == "https://example.com/coil/1"
    assert answer.value(1).public_read and not answer.value(1).public_write
    assert answer.value(1).timestamp > 1_700_000_000

    only_url = await client.resolve(handle, types=["URL"])
    assert [v.type for v in only_url.values] == ["URL"]
    by_index = await client.resolve(handle, indexes=[1])
    assert [v.index for v in by_index.values] == [1]
    nothing = await client.resolve(handle, types=["EMAIL"])
    assert nothing.response_code == hdl.RC_VALUES_NOT_FOUND
    missing = await client.resolve(f"{tenant.prefix}/NO-SUCH")
    assert missing.response_code == hdl.RC_HANDLE_NOT_FOUND
    assert "not found" in (missing.message or "")
    metrics = (await node.http.get("/metrics")).text
    assert f'secnode_native_requests_total{{opcode="1",response_code="100",transport="{transport}"}}' in metrics


async def cache_answers(node: Node) -> float:
    """Resolutions answered by any cache tier or a database read behind the cache, so far."""
    total = 0.0
    for line in (await node.http.get("/metrics")).text.splitlines():
        if line.startswith("secnode_resolve_source_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_an_authoritative_request_reads_the_store_not_the_cache(node: Node):
    tenant = await onboard(node.http, "nativeauth")
    handle = await rest_create(node, tenant, "AT-1", "https://example.com/at")
    before = await cache_answers(node)
    answer = await node.tcp().resolve(handle, authoritative=True)
    assert answer.ok and answer.value(1).text() == "https://example.com/at"
    assert await cache_answers(node) == before
    assert (await node.tcp().resolve(handle)).ok
    assert await cache_answers(node) == before + 1


async def test_a_write_over_rest_is_read_over_udp_at_once_and_a_delete_too(node: Node):
    tenant = await onboard(node.http, "nativeraw")
    handle = await rest_create(node, tenant, "RAW-1", "https://example.com/v1")
    udp = node.udp()
    assert (await udp.resolve(handle)).value(1).text() == "https://example.com/v1"  # now cached
    value = [{"index": 1, "type": "URL", "data": {"format": "string", "value": "https://example.com/v2"}}]
    response = await node.http.put(f"/api/handles/{handle}", json=value, headers=tenant.handle_admin)
    assert response.status_code == 200
    assert (await udp.resolve(handle)).value(1).text() == "https://example.com/v2"
    assert (await node.http.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)).status_code == 200
    assert (await udp.resolve(handle)).response_code == hdl.RC_HANDLE_NOT_FOUND


async def test_site_information_is_generated_from_the_settings(node: Node):
    site_answer = await node.udp().get_site_info()
    assert site_answer.response_code == hdl.RC_SUCCESS
    site = site_answer.site
    assert site is not None
    server = site["servers"][0]
    assert server["address"] == "127.0.0.1"
    transports = {(i["protocol"], i["port"]) for i in server["interfaces"]}
    assert ("udp", node.port) in transports and ("tcp", node.port) in transports
    assert site["protocol_version"] == (2, 11) and site["primary"]

    na = await node.tcp().resolve("0.NA/88.118", types=["HS_SITE"])
    assert na.response_code == hdl.RC_SUCCESS
    [value] = na.values
    assert hdl.decode_site(value.data) == site


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_a_certified_answer_verifies_with_the_node_key_and_a_tampered_one_does_not(node: Node, transport: str):
    tenant = await onboard(node.http, f"nativecert{transport}")
    handle = await rest_create(node, tenant, "CERT-1", "https://example.com/c")
    client = node.udp() if transport == "udp" else node.tcp()
    answer = await client.resolve(handle, certified=True)
    assert answer.ok and answer.flags["CT"] and answer.signature
    assert hdl.verify_signature(answer, node.key.public_key())
    answer.header_and_body = answer.header_and_body.replace(b"example.com", b"example.org")
    assert not hdl.verify_signature(answer, node.key.public_key())
    plain = await client.resolve(handle)
    assert not plain.signature  # signed only when asked


async def test_an_older_client_is_answered_in_its_suggested_version(node: Node):
    # a Handle.Net client that does not know the server's site yet sends 2.3 and suggests 2.11
    tenant = await onboard(node.http, "nativever")
    handle = await rest_create(node, tenant, "V-1", "https://example.com/v")
    answer = await node.udp(minor=3).resolve(handle, RD=True)
    assert answer.response_code == hdl.RC_SUCCESS
    assert (answer.major, answer.minor) == (2, 11)
    assert answer.digest_algorithm == hdl.HASH_CODE_SHA256


# ---- authentication and writes -------------------------------------------------------------------------------


KEYS = {
    "RSA": lambda: RSA_KEY,
    "DSA": lambda: dsa.generate_private_key(2048),
    "Ed25519": ed25519.Ed25519PrivateKey.generate,
    "ECDSA-P256": lambda: ec.generate_private_key(ec.SECP256R1()),
}


@pytest.mark.parametrize("kind", sorted(KEYS))
async def test_every_write_operation_after_a_public_key_challenge(node: Node, kind: str):
    tenant = await onboard(node.http, f"nativew{kind.lower()[:5]}")
    auth = await publish_key(node, tenant, KEYS[kind]())
    handle = f"{tenant.prefix}/NATIVE-{kind}"
    client = node.tcp()

    created = await client.create_handle(
        handle,
        [hdl.text_value(1, "URL", "https://example.com/n1"), hdl.text_value(2, "EMAIL", "qa@example.com")],
        auth=auth,
    )
    assert created.response_code == hdl.RC_SUCCESS, created.message
    assert created.challenge is not None and created.challenge.response_code == hdl.RC_AUTHENTICATION_NEEDED
    rest = (await node.http.get(f"/api/handles/{handle}")).json()
    assert [v["type"] for v in rest["values"]] == ["URL", "EMAIL"]  # read back over the other face

    assert (await client.add_values(handle, [hdl.text_value(3, "DESC", "coil")], auth=auth)).ok
    clash = await client.add_values(handle, [hdl.text_value(3, "DESC", "again")], auth=auth)
    assert clash.response_code == hdl.RC_VALUE_ALREADY_EXISTS
    assert (await client.modify_values(handle, [hdl.text_value(1, "URL", "https://example.com/n2")], auth=auth)).ok
    absent = await client.modify_values(handle, [hdl.text_value(9, "URL", "https://x.example")], auth=auth)
    assert absent.response_code == hdl.RC_VALUES_NOT_FOUND
    assert (await client.remove_values(handle, [2], auth=auth)).ok

    read = await node.udp().resolve(handle)
    assert {v.index: v.text() for v in read.values} == {1: "https://example.com/n2", 3: "coil"}
    again = await client.create_handle(handle, [hdl.text_value(1, "URL", "https://x.example")], auth=auth)
    assert again.response_code == hdl.RC_HANDLE_ALREADY_EXISTS
    assert (await client.delete_handle(handle, auth=auth)).ok
    assert (await node.http.get(f"/api/handles/{handle}")).status_code == 404


async def test_an_sm2_key_authenticates_as_the_idis_extension(node: Node):
    tenant = await onboard(node.http, "nativesm2")
    private = new_sm2_private_key()
    await publish_key(node, tenant, private)
    read = await node.udp().resolve(f"{tenant.prefix}/admin", types=["HS_PUBKEY"])
    [key] = read.values
    assert key.data.startswith(hdl.lbytes(b"SM2_PUB_KEY"))  # encoded as IDIS encodes SM2 keys


@pytest.mark.parametrize("kind", ["RSA", "DSA"])
async def test_rsa_and_dsa_keys_are_encoded_as_handle_net_encodes_them(node: Node, kind: str):
    tenant = await onboard(node.http, f"native{kind.lower()}key")
    private = KEYS[kind]()
    await publish_key(node, tenant, private)
    read = await node.tcp().resolve(f"{tenant.prefix}/admin", types=["HS_PUBKEY"])
    [key] = read.values
    decoded = hdl.decode_public_key(key.data)
    assert decoded.public_numbers() == private.public_key().public_numbers()

    # and a key sent in Handle.Net's encoding replaces the old one and is the one the node verifies with
    auth = hdl.PublicKeyAuth(f"{tenant.prefix}/admin", KEY_INDEX, private)
    second = rsa.generate_private_key(65537, 2048) if kind == "RSA" else KEYS[kind]()  # KEYS' RSA key is shared
    encoded = hdl.HandleValue(KEY_INDEX, "HS_PUBKEY", hdl.encode_public_key(second.public_key()))
    replaced = await node.tcp().modify_values(f"{tenant.prefix}/admin", [encoded], auth=auth)
    assert replaced.ok, replaced.message
    handle = f"{tenant.prefix}/BY-{kind}"
    url = [hdl.text_value(1, "URL", "https://x.example")]
    assert not (await node.tcp().create_handle(handle, url, auth=auth)).ok  # the old key no longer
    new_auth = hdl.PublicKeyAuth(f"{tenant.prefix}/admin", KEY_INDEX, second)
    assert (await node.tcp().create_handle(handle, url, auth=new_auth)).ok


async def test_writes_are_refused_without_the_right_identity(node: Node):
    owner = await onboard(node.http, "nativeown")
    other = await onboard(node.http, "nativeoth")
    handle = await rest_create(node, owner, "OWNED", "https://example.com/o")
    stranger = await publish_key(node, other, rsa.generate_private_key(65537, 2048))

    refused = await node.tcp().delete_handle(handle, auth=stranger)
    assert refused.response_code == hdl.RC_NOT_AUTHORIZED
    forged = hdl.PublicKeyAuth(f"{owner.prefix}/admin", KEY_INDEX, rsa.generate_private_key(65537, 2048))
    assert (await node.tcp().delete_handle(handle, auth=forged)).response_code == hdl.RC_AUTHENTICATION_FAILED
    wrong_secret = hdl.SecretKeyAuth(f"{owner.prefix}/admin", 300, b"not-the-secret")
    assert (await node.tcp().delete_handle(handle, auth=wrong_secret)).response_code == hdl.RC_AUTHENTICATION_FAILED
    assert (await node.http.get(f"/api/handles/{handle}")).status_code == 200  # nothing was deleted

    no_auth = await node.tcp().delete_handle(handle, auth=None)
    assert no_auth.response_code == hdl.RC_AUTHENTICATION_NEEDED and no_auth.nonce


@pytest.mark.parametrize("hashed", [False, True], ids=["secret", "handle-net-hashed"])
@pytest.mark.parametrize("minor", [11, 6], ids=["pbkdf2", "sha1"])
async def test_a_secret_key_answers_the_challenge_as_handle_net_computes_it(node: Node, hashed: bool, minor: int):
    tenant = await onboard(node.http, f"nativesec{int(hashed)}{minor}")
    handle = await rest_create(node, tenant, "SECRET-1", "https://example.com/s")
    unsealed = hdl.SecretKeyAuth(f"{tenant.prefix}/admin", 300, tenant.password.encode())
    refused = await node.tcp().delete_handle(handle, auth=unsealed)
    assert refused.response_code == hdl.RC_AUTHENTICATION_FAILED and "sealed" in (refused.message or "")
    await seal_secret(node, tenant)
    auth = hdl.SecretKeyAuth(f"{tenant.prefix}/admin", 300, tenant.password.encode(), hashed=hashed)
    client = node.tcp(minor=minor, suggest=(2, minor))
    answer = await client.add_values(handle, [hdl.text_value(2, "EMAIL", "qa@example.com")], auth=auth)
    assert answer.ok, answer.message
    assert (await node.http.get(f"/api/handles/{handle}")).json()["values"][1]["type"] == "EMAIL"


async def test_wrong_secret_answers_lock_the_identity_like_basic_auth(node: Node):
    tenant = await onboard(node.http, "nativelock")
    handle = await rest_create(node, tenant, "LOCK-1", "https://example.com/l")
    await seal_secret(node, tenant)
    wrong = hdl.SecretKeyAuth(f"{tenant.prefix}/admin", 300, b"guess")
    for _ in range(node.settings.login_max_failures):
        assert (await node.tcp().delete_handle(handle, auth=wrong)).response_code == hdl.RC_AUTHENTICATION_FAILED
    right = hdl.SecretKeyAuth(f"{tenant.prefix}/admin", 300, tenant.password.encode())
    locked = await node.tcp().delete_handle(handle, auth=right)
    assert locked.response_code == hdl.RC_AUTHENTICATION_FAILED and "locked" in (locked.message or "")


async def test_native_writes_and_refusals_are_audited(node: Node, fresh_node: Database):
    tenant = await onboard(node.http, "nativeaudit")
    auth = await publish_key(node, tenant, RSA_KEY)
    before = len(await audit_entries(fresh_node))
    handle = f"{tenant.prefix}/AUDITED-1"
    assert (await node.tcp().create_handle(handle, [hdl.text_value(1, "URL", "https://example.com/a")], auth=auth)).ok
    forged = hdl.PublicKeyAuth(auth.handle, KEY_INDEX, rsa.generate_private_key(65537, 2048))
    assert not (await node.tcp().delete_handle(handle, auth=forged)).ok
    await node.udp().resolve(handle)  # reads are not audited
    entries = (await audit_entries(fresh_node))[before:]
    identity = f"300:{tenant.prefix}/admin"
    assert ("anonymous", "native create", "127.0.0.1", hdl.RC_AUTHEN_NEEDED) in entries  # the challenge
    assert (identity, "native create", "127.0.0.1", hdl.RC_SUCCESS) in entries
    assert (f"claimed:{identity}", "native challenge answer", "127.0.0.1", hdl.RC_AUTHEN_FAILED) in entries
    assert len(entries) == 4  # create challenged, created, delete challenged, answer refused


async def test_a_challenge_answer_cannot_be_replayed(node: Node):
    tenant = await onboard(node.http, "nativerep")
    handle = await rest_create(node, tenant, "REPLAY", "https://example.com/r")
    auth = await publish_key(node, tenant, RSA_KEY)
    client = node.udp()
    first = await client.remove_values(handle, [1], auth=auth)
    assert first.ok, first.message
    challenge = first.challenge
    assert challenge is not None
    answer_body = hdl.challenge_answer_body("HS_PUBKEY", auth.handle, auth.index, auth.answer(challenge))
    replay = hdl.frame(
        hdl.message(hdl.OC_CHALLENGE_RESPONSE, answer_body), session_id=challenge.session_id, request_id=99
    )
    raw = await hdl.send_udp_raw(HOST, node.port, replay)
    assert raw is not None
    assert hdl.decode_answer(raw).response_code == hdl.RC_AUTHEN_TIMEOUT


async def test_restricted_values_need_an_identity_and_listing_too(node: Node):
    tenant = await onboard(node.http, "nativepriv")
    handle = await rest_create(node, tenant, "PRIV-1", "https://example.com/p")
    secret = [{"index": 5, "type": "NOTE", "data": {"format": "string", "value": "restricted"}, "permissions": "1100"}]
    response = await node.http.put(f"/api/handles/{handle}?index=5", json=secret, headers=tenant.handle_admin)
    assert response.status_code == 200, response.text
    auth = await publish_key(node, tenant, RSA_KEY)

    public = await node.udp().resolve(handle)
    assert [v.index for v in public.values] == [1]
    asks = await node.tcp().resolve(handle, public_only=False)
    assert asks.response_code == hdl.RC_AUTHENTICATION_NEEDED
    full = await node.tcp().resolve(handle, public_only=False, auth=auth)
    assert {v.index for v in full.values} == {1, 5}
    assert not full.value(5).public_read

    listed = await node.tcp().list_handles(f"0.NA/{tenant.prefix}", auth=auth)
    assert listed.response_code == hdl.RC_SUCCESS, listed.message
    assert handle in listed.handles and f"{tenant.prefix}/admin" in listed.handles
    other = await onboard(node.http, "nativelst")
    not_theirs = await node.tcp().list_handles(f"0.NA/{other.prefix}", auth=auth)
    assert not_theirs.response_code == hdl.RC_NOT_AUTHORIZED


async def test_the_node_administrator_lists_the_prefixes_it_serves(node: Node):
    tenant = await onboard(node.http, "nativenas")
    key = rsa.generate_private_key(65537, 2048)  # the node administrator's, in place of its secret
    value = {"index": 300, "type": "HS_PUBKEY", "data": {"format": "key", "value": public_jwk(key)}}
    basic = {"Authorization": "Basic " + base64.b64encode(f"300%3A0.NA%2F88.118:{ADMIN_PASSWORD}".encode()).decode()}
    response = await node.http.put("/api/handles/0.NA/88.118?index=300", json=[value], headers=basic)
    assert response.status_code in (200, 201), response.text
    listed = await node.tcp().list_nas("0.NA/88.118", auth=hdl.PublicKeyAuth("0.NA/88.118", 300, key))
    assert listed.response_code == hdl.RC_SUCCESS, listed.message
    assert {"0.NA/88.118", f"0.NA/{tenant.prefix}"} <= set(listed.handles)
    enterprise = await publish_key(node, tenant, RSA_KEY)
    refused = await node.tcp().list_nas("0.NA/88.118", auth=enterprise)
    assert refused.response_code == hdl.RC_NOT_AUTHORIZED


# ---- bad input -----------------------------------------------------------------------------------------------


def _resolution_bytes(handle: str = "88.118/X", **envelope_fields) -> bytes:
    return hdl.frame(hdl.message(hdl.OC_RESOLUTION, hdl.resolution_body(handle)), **envelope_fields)


async def test_malformed_messages_are_answered_with_protocol_errors_and_the_node_goes_on(node: Node):
    port = node.port
    assert await hdl.send_udp_raw(HOST, port, b"\x02\x0b\x00", timeout=0.5) is None  # shorter than an envelope

    lying = bytearray(_resolution_bytes())
    lying[16:20] = struct.pack(">I", 400)  # announces more than the datagram holds
    answer = hdl.decode_answer(await hdl.send_udp_raw(HOST, port, bytes(lying)))
    assert answer.response_code == hdl.RC_PROTOCOL_ERROR

    huge = bytearray(_resolution_bytes())
    huge[16:20] = struct.pack(">I", 2**32 - 1)
    assert hdl.decode_answer(await hdl.send_udp_raw(HOST, port, bytes(huge))).response_code == hdl.RC_PROTOCOL_ERROR
    tcp_answer = await hdl.send_tcp_raw(HOST, port, bytes(huge))
    assert hdl.decode_answer(tcp_answer).response_code == hdl.RC_PROTOCOL_ERROR

    body_lies = hdl.frame(hdl.message(hdl.OC_RESOLUTION, hdl.resolution_body("88.118/X"), body_length=10_000))
    assert hdl.decode_answer(await hdl.send_udp_raw(HOST, port, body_lies)).response_code == hdl.RC_PROTOCOL_ERROR

    count_lies = hdl.frame(hdl.message(hdl.OC_RESOLUTION, hdl.utf8("88.118/X") + hdl.u32(2**31) + hdl.u32(0)))
    assert hdl.decode_answer(await hdl.send_udp_raw(HOST, port, count_lies)).response_code == hdl.RC_PROTOCOL_ERROR

    unknown = hdl.frame(hdl.message(777, b""))
    assert (
        hdl.decode_answer(await hdl.send_udp_raw(HOST, port, unknown)).response_code == hdl.RC_OPERATION_NOT_SUPPORTED
    )

    future = _resolution_bytes(major=3, minor=0, suggest_major=3, suggest_minor=0)
    assert hdl.decode_answer(await hdl.send_udp_raw(HOST, port, future)).response_code == hdl.RC_PROTOCOL_ERROR

    not_utf8 = hdl.frame(hdl.message(hdl.OC_RESOLUTION, hdl.lbytes(b"\xff\xfe") + hdl.u32(0) + hdl.u32(0)))
    assert hdl.decode_answer(await hdl.send_udp_raw(HOST, port, not_utf8)).response_code == hdl.RC_PROTOCOL_ERROR

    bad_handle = await node.udp().resolve("no slash here")
    assert bad_handle.response_code in (hdl.RC_INVALID_HANDLE, hdl.RC_HANDLE_NOT_FOUND)
    assert (await node.http.get("/healthz")).status_code == 200  # HTTP went on serving


async def test_a_client_that_half_closes_after_its_request_gets_its_answer(node: Node):
    tenant = await onboard(node.http, "nativehalf")
    handle = await rest_create(node, tenant, "HALF-1", "https://example.com/h")
    for _ in range(2):  # the first answer is computed, the second is a ready one
        answer = hdl.decode_answer(await hdl.send_tcp_raw(HOST, node.port, _resolution_bytes(handle)))
        assert answer.ok and answer.value(1).text() == "https://example.com/h"


async def test_half_open_connections_do_not_stop_the_server(node: Node):
    idle = [await asyncio.open_connection(HOST, node.port) for _ in range(50)]
    for _, writer in idle[:25]:
        writer.write(b"\x02\x0b")  # half an envelope, then nothing
    tenant = await onboard(node.http, "nativeflood")
    handle = await rest_create(node, tenant, "FLOOD", "https://example.com/f")
    assert (await node.tcp().resolve(handle)).ok
    assert (await node.udp().resolve(handle)).ok
    for _, writer in idle:
        writer.close()


async def test_a_large_udp_answer_is_refused_with_the_truncation_flag_and_tcp_serves_it(node: Node):
    tenant = await onboard(node.http, "nativebig")
    values = [{"index": i, "type": "DESC", "data": {"format": "string", "value": "x" * 400}} for i in range(1, 8)]
    handle = f"{tenant.prefix}/BIG-1"
    response = await node.http.put(f"/api/handles/{handle}", json=values, headers=tenant.handle_admin)
    assert response.status_code == 201, response.text

    raw = await hdl.send_udp_raw_all(HOST, node.port, _resolution_bytes(handle), timeout=1.0)
    assert len(raw) == 1 and len(raw[0]) <= 512  # no amplification from a spoofable source
    refusal = hdl.decode_envelope(raw[0])
    assert refusal.truncated
    full = await node.tcp().resolve(handle)
    assert full.ok and len(full.values) == 7


async def test_a_multi_packet_udp_request_is_reassembled(node: Node):
    tenant = await onboard(node.http, "nativemulti")
    auth = await publish_key(node, tenant, RSA_KEY)
    handle = f"{tenant.prefix}/MULTI-1"
    long_values = [hdl.text_value(i, "DESC", "y" * 300) for i in range(1, 5)]  # over one 512-octet packet
    created = await node.udp().create_handle(handle, long_values, auth=auth)
    assert created.ok, created.message
    assert len((await node.tcp().resolve(handle)).values) == 4
