"""Trusted resolution end to end (ADR 0015), on real PostgreSQL and Redis, the node and the reference top-level node as
real HTTP servers: the top level certifies the node when it registers, the node certifies an enterprise's key, the
enterprise signs its record, and ``secnode verify --chain`` and Handle.Net's own verifier check the whole chain."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from foundation.crypto import handle_trust as trust
from foundation.crypto.pubkeys import load_public_key
from foundation.crypto.trust_keys import TrustKey, new_trust_key
from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.factories import Tenant, onboard
from tests.servers import running_node, running_toplevel
from tests.trust.handle_net import Oracle, available

NODE_NA = "0.NA/88.118"


@pytest.fixture(scope="module")
def oracle(tmp_path_factory) -> Oracle:
    reason = available()
    if reason:
        pytest.skip(reason)
    return Oracle(tmp_path_factory.mktemp("handle-net"))


@contextlib.contextmanager
def certified_node(alg: str, database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The top level (root key of ``alg``) and a node (trust key of ``alg``) registered under it."""
    (tmp_path / "top").mkdir()
    (tmp_path / "node").mkdir()
    with running_toplevel(tmp_path / "top", extra_env={"SECNODE_TOPLEVEL_ROOT_KEY_ALG": alg}) as top:
        env = {
            "SECNODE_DATABASE_URL": database_url,
            "SECNODE_REDIS_URL": REDIS_URL,
            "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SECNODE_UPSTREAM_URL": top,
            "SECNODE_TRUST_KEY_ALG": alg,
        }
        with running_node(env, tmp_path / "node") as url:
            yield top, url


async def _until_certified(http: httpx.AsyncClient, timeout: float = 30) -> str:
    """The node registers upward when it starts; its certificate lands at index 400 of its NA handle."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        values = (await http.get(f"/api/handles/{NODE_NA}")).json().get("values", [])
        cert = next((v for v in values if v["index"] == 400 and v["type"] == "HS_CERT"), None)
        if cert is not None:
            return cert["data"]["value"]
        assert asyncio.get_running_loop().time() < deadline, "the node was not certified"
        await asyncio.sleep(0.3)


async def _certified_enterprise(http: httpx.AsyncClient, name: str, alg: str) -> tuple[Tenant, TrustKey]:
    tenant = await onboard(http, name)
    key = new_trust_key(alg)
    registered = await http.put(
        f"/api/handles/0.NA/{tenant.prefix}",
        params={"index": "300"},
        json=[{"index": 300, "type": "HS_PUBKEY", "data": {"format": "key", "value": key.public_jwk()}}],
        headers=tenant.handle_admin,
    )
    assert registered.status_code in (200, 201), registered.text
    issued = await http.post(
        f"/api/trust/certificates/{tenant.prefix}", params={"index": "300"}, headers=tenant.handle_admin
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["index"] == 400
    return tenant, key


def _record() -> list[dict]:
    return [
        trust.string_value(1, "URL", "https://steel.example/coil/7"),
        trust.string_value(2, "EMAIL", "qa@steel.example"),
    ]


def _chain(prefix: str) -> list[str]:
    return [f"0.NA/{prefix}", NODE_NA, trust.ROOT_HANDLE]


def _secnode_verify(handle: str, url: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "verify", handle, "--url", url, "--chain", *options],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _java_report(oracle: Oracle, http: httpx.AsyncClient, top: str, handle: str, prefix: str, **params) -> dict:
    """Handle.Net's HandleRecordTrustVerifier over the record as the node serves it, the chain's handles as the node
    and the top level serve them, trusting the root key the top level publishes."""
    values = (await http.get(f"/api/handles/{handle}", params=params)).json()["values"]
    records = {name: (await http.get(f"/api/handles/{name}")).json()["values"] for name in (f"0.NA/{prefix}", NODE_NA)}
    async with httpx.AsyncClient(base_url=top) as upper:
        records[trust.ROOT_HANDLE] = (await upper.get(f"/api/handles/{trust.ROOT_HANDLE}")).json()["values"]
    root = next(v for v in records[trust.ROOT_HANDLE] if v["type"] == "HS_PUBKEY")["data"]["value"]
    return oracle.verify(handle, values, records, [load_public_key(root).key])


@pytest.mark.parametrize("alg", ["RS256", "ES256", "SM2256"])
async def test_the_whole_chain_issued_and_verified(alg, fresh_node, database_url, tmp_path, request):
    with certified_node(alg, database_url, tmp_path) as (top, url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            node_cert = trust.parse_jws(await _until_certified(http))
            assert node_cert.alg == alg and node_cert.subject == f"301:{NODE_NA}"
            assert node_cert.issuer == "300:0.0/0.0"
            tenant, key = await _certified_enterprise(http, f"trust{alg.lower()}", alg)
            handle = f"{tenant.prefix}/COIL-7"
            values = _record()
            jws = trust.record_signature(
                handle, values, f"300:0.NA/{tenant.prefix}", key, lifetime=3600, chain=_chain(tenant.prefix)
            )
            written = await http.put(
                f"/api/handles/{handle}",
                json=[*values, trust.string_value(400, "HS_SIGNATURE", jws)],
                headers=tenant.handle_admin,
            )
            assert written.status_code == 201, written.text

            verified = _secnode_verify(handle, url, "--toplevel", top)
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert f"signed by 300:0.NA/{tenant.prefix}" in verified.stdout
            assert f"300:0.NA/{tenant.prefix} <- 301:{NODE_NA} <- 300:0.0/0.0" in verified.stdout

            # the node signs a record that carries no signature of its own, on request, in Handle's format
            plain = f"{tenant.prefix}/COIL-8"
            assert (
                await http.put(f"/api/handles/{plain}", json=_record(), headers=tenant.handle_admin)
            ).status_code == 201
            signed = (await http.get(f"/api/handles/{plain}", params={"signed": "handle"})).json()["values"]
            assert trust.parse_jws(signed[-1]["data"]["value"]).alg == alg
            by_node = _secnode_verify(plain, url, "--toplevel", top)
            assert by_node.returncode == 0, by_node.stdout + by_node.stderr
            assert f"signed by 301:{NODE_NA}" in by_node.stdout

            if alg == "RS256":  # Handle.Net 9.2 reads RSA and DSA keys in certificates, and RS/DS signatures only
                report = await _java_report(oracle_for(request), http, top, handle, tenant.prefix)
                assert report["error"] is None and sorted(report["signedValues"]) == [1, 2], report
                report = await _java_report(oracle_for(request), http, top, plain, tenant.prefix, signed="handle")
                assert report["error"] is None and sorted(report["signedValues"]) == [1, 2], report

            # a value changed after signing: the stale signature no longer holds, for secnode verify and Handle.Net
            changed = await http.put(
                f"/api/handles/{handle}",
                params={"index": "1"},
                json=[trust.string_value(1, "URL", "https://evil.example/coil/7")],
                headers=tenant.handle_admin,
            )
            assert changed.status_code == 200, changed.text
            tampered = _secnode_verify(handle, url, "--toplevel", top)
            assert tampered.returncode == 1
            assert "the value at index 1 is not the one signed" in tampered.stdout
            if alg == "RS256":
                report = await _java_report(oracle_for(request), http, top, handle, tenant.prefix)
                assert report["error"] == "bad digests"


def oracle_for(request) -> Oracle:
    return request.getfixturevalue("oracle")


async def test_enterprise_signatures_are_checked_on_write(oracle, fresh_node, database_url, tmp_path):
    with certified_node("RS256", database_url, tmp_path) as (top, url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            root_cert = await _until_certified(http)
            tenant, key = await _certified_enterprise(http, "trustwriter", "RS256")
            other, other_key = await _certified_enterprise(http, "trustother", "RS256")
            handle = f"{tenant.prefix}/COIL-9"
            values = _record()

            # signed by Handle.Net's own HandleSigner: accepted, and verified by secnode verify with --root
            jws = oracle.sign(handle, values, f"300:0.NA/{tenant.prefix}", key, _chain(tenant.prefix), 3600)
            written = await http.put(
                f"/api/handles/{handle}",
                json=[*values, trust.string_value(400, "HS_SIGNATURE", jws)],
                headers=tenant.handle_admin,
            )
            assert written.status_code == 201, written.text
            async with httpx.AsyncClient(base_url=top) as upper:
                published = (await upper.get(f"/api/handles/{trust.ROOT_HANDLE}")).json()["values"]
            root_file = tmp_path / "root.jwk"
            root_file.write_text(json.dumps(next(v for v in published if v["type"] == "HS_PUBKEY")["data"]["value"]))
            verified = _secnode_verify(handle, url, "--root", str(root_file))
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert trust.parse_jws(root_cert).issuer == "300:0.0/0.0"

            # refused, with the Handle face's error, and nothing written: digests of other values
            bad = await http.put(
                f"/api/handles/{tenant.prefix}/COIL-10",
                json=[
                    trust.string_value(1, "URL", "https://other.example"),
                    trust.string_value(400, "HS_SIGNATURE", jws),
                ],
                headers=tenant.handle_admin,
            )
            assert bad.status_code == 400, bad.text
            body = bad.json()
            assert body["responseCode"] == 202 and body["error"] == "trust.signature_invalid", body
            assert "is about" in body["message"]
            assert (await http.get(f"/api/handles/{tenant.prefix}/COIL-10")).status_code == 404

            # a key certified for another prefix cannot vouch for this one
            foreign = trust.record_signature(
                f"{tenant.prefix}/COIL-11",
                values,
                f"300:0.NA/{other.prefix}",
                other_key,
                lifetime=3600,
                chain=_chain(other.prefix),
            )
            refused = await http.put(
                f"/api/handles/{tenant.prefix}/COIL-11",
                json=[*values, trust.string_value(400, "HS_SIGNATURE", foreign)],
                headers=tenant.handle_admin,
            )
            assert refused.status_code == 400
            assert (
                f"300:0.NA/{other.prefix}'s permissions do not reach {tenant.prefix}/COIL-11"
                in refused.json()["message"]
            )

            # a key nobody certified: the chain is broken
            stranger = new_trust_key("RS256")
            unchained = trust.record_signature(
                f"{tenant.prefix}/COIL-12", values, f"301:0.NA/{tenant.prefix}", stranger, lifetime=3600
            )
            refused = await http.put(
                f"/api/handles/{tenant.prefix}/COIL-12",
                json=[*values, trust.string_value(400, "HS_SIGNATURE", unchained)],
                headers=tenant.handle_admin,
            )
            assert refused.status_code == 400
            assert "the chain is broken" in refused.json()["message"]

            # the enterprise may not have its key certified for another enterprise's prefix
            stolen = await http.post(f"/api/trust/certificates/{other.prefix}", headers=tenant.handle_admin)
            assert stolen.status_code == 403, stolen.text
            assert stolen.json()["error"] == "auth.role_forbidden"
