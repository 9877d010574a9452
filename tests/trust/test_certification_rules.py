"""Who the node certifies, and when (registry.trust): on real PostgreSQL and Redis, through the Handle REST face."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto import handle_trust as trust
from foundation.crypto.pubkeys import public_jwk
from foundation.crypto.trust_keys import ensure_trust_key, new_trust_key
from node.app import create_app
from registry.kernel.actor import SYSTEM
from registry.trust import service
from tests.conftest import ADMIN_PASSWORD, REDIS_URL, make_settings
from tests.factories import basic, onboard


@pytest.fixture
async def node(fresh_node, database_url, tmp_path):
    settings = make_settings(database_url, trust_key_file=str(tmp_path / "trust.key"), trust_key_alg="ES256")
    _, key = ensure_trust_key(settings.trust_key_file, settings.trust_key_alg)
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, settings, key, fresh_node


def _root_and_certificate(settings, key, subject: str | None = None):
    root = new_trust_key("RS256")
    root_id = f"300:{trust.ROOT_HANDLE}"
    root_cert = trust.certificate(
        root_id, trust.certificate_jwk(root), [{"handle": "0.0/0.0", "perm": "everything"}], root_id, root, lifetime=60
    )
    certificate = trust.certificate(
        subject or service.node_identity(settings),
        trust.certificate_jwk(key),
        trust.prefix_permissions(settings.node_prefix, derived=True),
        root_id,
        root,
        lifetime=60,
    )
    return certificate, root_cert


async def _key_of(http, tenant, jwk) -> None:
    written = await http.put(
        f"/api/handles/0.NA/{tenant.prefix}",
        params={"index": "300"},
        json=[{"index": 300, "type": "HS_PUBKEY", "data": {"format": "key", "value": jwk}}],
        headers=tenant.handle_admin,
    )
    assert written.status_code in (200, 201), written.text


async def test_a_node_the_top_level_has_not_certified_issues_nothing(node):
    http, _, key, _ = node
    tenant = await onboard(http, "uncertified")
    await _key_of(http, tenant, key.public_jwk())
    refused = await http.post(f"/api/trust/certificates/{tenant.prefix}", headers=tenant.handle_admin)
    assert refused.status_code == 409 and refused.json()["error"] == "trust.node_not_certified"
    assert (
        await http.put(
            f"/api/handles/{tenant.prefix}/A",
            json=[trust.string_value(1, "URL", "https://a")],
            headers=tenant.handle_admin,
        )
    ).status_code == 201
    unsigned = await http.get(f"/api/handles/{tenant.prefix}/A", params={"signed": "handle"})
    assert unsigned.status_code == 409 and unsigned.json()["error"] == "trust.node_not_certified"
    own = await http.get(f"/api/handles/{tenant.prefix}/A", params={"signed": "true"})  # ADR 0008's, by its own key
    assert own.status_code == 503 and own.json()["error"] == "signature.no_key"  # this node was given none


async def test_the_node_keeps_only_a_certificate_of_its_own_key_by_the_root_that_sent_it(node):
    http, settings, key, db = node
    async with db.unit_of_work() as session:
        other_key, _ = _root_and_certificate(settings, new_trust_key("ES256"))
        _, root_cert = _root_and_certificate(settings, key)
        with pytest.raises(trust.TrustInvalid, match="binds another key|do not verify"):
            await service.store_node_certificate(session, settings, SYSTEM, key, other_key, root_cert)
        foreign, root_cert = _root_and_certificate(settings, key, subject="301:0.NA/88.119")
        with pytest.raises(trust.TrustInvalid, match="about 301:0.NA/88.119"):
            await service.store_node_certificate(session, settings, SYSTEM, key, foreign, root_cert)
        certificate, root_cert = _root_and_certificate(settings, key)
        await service.store_node_certificate(session, settings, SYSTEM, key, certificate, root_cert)
    values = (await http.get(f"/api/handles/0.NA/{settings.node_prefix}")).json()["values"]
    kept = {v["index"]: v["type"] for v in values}
    assert kept[100] == "HS_ADMIN" and kept[301] == "HS_PUBKEY" and kept[400] == kept[401] == "HS_CERT"


async def test_who_may_have_which_key_certified(node):
    http, settings, key, db = node
    async with db.unit_of_work() as session:
        await service.store_node_certificate(session, settings, SYSTEM, key, *_root_and_certificate(settings, key))
    tenant, other = await onboard(http, "certified"), await onboard(http, "neighbour")

    await _key_of(http, tenant, public_jwk(Ed25519PrivateKey.generate()))
    no_key = await http.post(f"/api/trust/certificates/{tenant.prefix}", headers=tenant.handle_admin)
    assert no_key.status_code == 404 and no_key.json()["error"] == "trust.no_key"

    enterprise_key = new_trust_key("SM2256")
    await _key_of(http, tenant, enterprise_key.public_jwk())
    stolen = await http.post(f"/api/trust/certificates/{tenant.prefix}", headers=other.handle_admin)
    assert stolen.status_code == 403
    bad_index = await http.post(
        f"/api/trust/certificates/{tenant.prefix}", params={"index": "x"}, headers=tenant.handle_admin
    )
    assert bad_index.status_code == 400
    anonymous = await http.post(f"/api/trust/certificates/{tenant.prefix}")
    assert anonymous.status_code == 401
    node_prefix = await http.post(
        f"/api/trust/certificates/{settings.node_prefix}",
        headers=basic(f"300:0.NA/{settings.node_prefix}", ADMIN_PASSWORD),
    )
    assert node_prefix.status_code == 404 and node_prefix.json()["error"] == "trust.not_a_prefix"

    issued = await http.post(f"/api/trust/certificates/{tenant.prefix}", headers=tenant.handle_admin)
    assert issued.status_code == 201, issued.text
    cert = trust.parse_jws(issued.json()["certificate"])
    assert cert.alg == "ES256" and cert.issuer == service.node_identity(settings)
    assert cert.subject == f"300:0.NA/{tenant.prefix}"
    assert cert.claims["chain"] == [f"0.NA/{settings.node_prefix}", "0.0/0.0"]
    assert trust.authorized(f"{tenant.prefix}/X", cert.claims["perms"])
    assert not trust.authorized(f"{other.prefix}/X", cert.claims["perms"])
    assert trust.key_fingerprint(trust.claims_key(cert.claims["publicKey"])) == trust.key_fingerprint(
        trust.claims_key(trust.certificate_jwk(enterprise_key))
    )
    values = (await http.get(f"/api/handles/0.NA/{tenant.prefix}")).json()["values"]
    assert [v["data"]["value"] for v in values if v["index"] == 400] == [issued.json()["certificate"]]
    # the node administrator may certify too
    by_node = await http.post(
        f"/api/trust/certificates/{tenant.prefix}", headers=basic(f"300:0.NA/{settings.node_prefix}", ADMIN_PASSWORD)
    )
    assert by_node.status_code == 201, by_node.text


async def test_the_command_line_shows_the_certificate_and_certifies(node, database_url, tmp_path):
    http, settings, key, db = node
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_TRUST_KEY_FILE": settings.trust_key_file,
    }

    def secnode(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "node.cli", "trust", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    assert "not certified" in secnode("status").stdout
    async with db.unit_of_work() as session:
        await service.store_node_certificate(session, settings, SYSTEM, key, *_root_and_certificate(settings, key))
    status = secnode("status")
    assert status.returncode == 0 and "index 400: 301:0.NA/88.118 issued by 300:0.0/0.0 (RS256)" in status.stdout
    tenant = await onboard(http, "bycommand")
    await _key_of(http, tenant, new_trust_key("RS256").public_jwk())
    issued = secnode("certify", tenant.prefix)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    # written by another process, through the cache coordination: the serving one answers it at once
    for _ in range(10):
        values = (await http.get(f"/api/handles/0.NA/{tenant.prefix}")).json()["values"]
        certificate = next((v["data"]["value"] for v in values if v["index"] == 400), None)
        if certificate is not None:
            break
        await asyncio.sleep(0.2)
    assert certificate is not None and trust.parse_jws(certificate).alg == "ES256"
