"""Data escrow (ADR 0014): deposits in RFC 8909's format that validate against the published schemas and the node's
mapping, signatures anyone checks with OpenSSL, the reference top-level node refusing bad signatures, gaps and
replays, and the restore test — a node rebuilt from a full deposit and its increments answers every identifier as
the original does."""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lxml import etree
from redis.asyncio import Redis
from sqlalchemy import select

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto.keys import ensure_signing_key, load_signing_key
from foundation.db import Database
from node.app import create_app
from registry.accounts.models import ReadGrant
from registry.audit.models import AuditEntry
from registry.journal.models import EscrowDeposit
from registry.kernel.models import HandleRecord
from registry.templates.models import Template, TemplateItem
from sync.errors import EscrowGap, EscrowInvalid, EscrowRestoreRefused
from sync.escrow import signature
from sync.escrow.deposit import FULL, INCR, summary, with_resend
from sync.escrow.depositor import make_deposit
from sync.escrow.restore import chain, check_file, restore
from sync.escrow.schedule import due, run_once
from sync.escrow.signature import SIGNATURE_HEADER
from sync.escrow.transfer import send_pending
from tests.conftest import make_settings, migrated_database, redis_database, scratch_database
from tests.factories import coil, onboard
from tests.servers import free_port, running_toplevel

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = Path(__file__).parent / "escrow_schemas"  # RFC 8909 / RFC 9022 schemas (see SOURCE.md there)
MAPPING = ROOT / "docs" / "escrow-schemas"
RESTORED_REDIS_DB = 14  # a Redis database no other test uses: the restored node's cache
NAMESPACES = {
    "urn:ietf:params:xml:ns:rde-1.0": "rde.xsd",
    "urn:ietf:params:xml:ns:rdeHeader-1.0": "rde-header.xsd",
    "urn:secnode:xml:ns:rdeEnterprise-1.0": "rdeEnterprise-1.0.xsd",
    "urn:secnode:xml:ns:rdePrefix-1.0": "rdePrefix-1.0.xsd",
    "urn:secnode:xml:ns:rdeTemplate-1.0": "rdeTemplate-1.0.xsd",
    "urn:secnode:xml:ns:rdeIdentifier-1.0": "rdeIdentifier-1.0.xsd",
}


@pytest.fixture
def key_path(tmp_path) -> str:
    path = str(tmp_path / "node.key")
    ensure_signing_key(path)
    return path


@pytest.fixture(scope="module")
def deposit_schema(tmp_path_factory) -> etree.XMLSchema:
    """The published schemas and the node's mapping, loaded together (they import each other by file name)."""
    directory = tmp_path_factory.mktemp("xsd")
    for source in [*PUBLISHED.glob("*.xsd"), *MAPPING.glob("*.xsd")]:
        shutil.copy(source, directory / source.name)
    imports = "".join(f'<import namespace="{ns}" schemaLocation="{name}"/>' for ns, name in NAMESPACES.items())
    (directory / "all.xsd").write_text(
        '<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:secnode:test:all">'
        + imports
        + "</schema>"
    )
    return etree.XMLSchema(etree.parse(str(directory / "all.xsd")))


def _valid(schema: etree.XMLSchema, path: Path) -> None:
    document = etree.parse(str(path))
    assert schema.validate(document), schema.error_log


async def _varied(client) -> dict:
    """Two enterprises, three prefixes, identifiers with restricted values, readers, references and non-ASCII."""
    steel = await onboard(client, "escsteel")
    paper = await onboard(client, "escpaper", industry="packaging")
    second = await client.post("/snms/api/v5/prefixes", json={}, headers=steel.headers)
    assert second.status_code == 201, second.text
    items = [coil(steel.prefix, i) for i in range(12)]
    response = await client.post("/identityv2/data/batchCreate", json=items, headers=steel.headers)
    assert response.status_code == 200, response.text
    for name, values in {
        "coil-A.001": [
            {"index": 1, "type": "URL", "data": "https://例子.cn/钢卷?批=甲"},
            {"index": 2, "type": "NOTE", "data": 'Ünïcødé ✓ 𝄞 <&> "quoted"\r\nline two\ttab'},
            {"index": 3, "type": "SECRET_NOTE", "data": "仅授权读者可见", "permissions": "1100"},
            {"index": 4, "type": "BLOB", "data": {"format": "base64", "value": "AAECAwQ="}},
            {"index": 5, "type": "HEXY", "data": {"format": "hex", "value": "00ff10"}, "ttl": 60},
            {
                "index": 6,
                "type": "LINK",
                "data": "see reference",
                "references": [{"handle": f"{paper.prefix}/paper-1", "index": 1}],
            },
        ],
        "private": [
            {"index": 1, "type": "URL", "data": "https://x.example"},
            {"index": 5, "type": "NOTE", "data": "p", "permissions": "1100"},
        ],
    }.items():
        put = await client.put(f"/api/handles/{steel.prefix}/{name}", headers=steel.handle_admin, json=values)
        assert put.status_code in (200, 201), put.text
    put = await client.put(
        f"/api/handles/{paper.prefix}/paper-1",
        headers=paper.handle_admin,
        json=[{"index": 1, "type": "URL", "data": "https://paper.example/1"}],
    )
    assert put.status_code in (200, 201), put.text
    granted = await client.put(
        "/identityv2/data/readers",
        params={"handle": f"{steel.prefix}/coil-A.001"},
        json={"index": 0, "readers": [f"code:{paper.credit_code}"]},
        headers=steel.headers,
    )
    assert granted.status_code == 200, granted.text
    return {"steel": steel, "paper": paper}


async def _changes_after_full(client, tenants: dict) -> None:
    steel, paper = tenants["steel"], tenants["paper"]
    granted = await client.put(  # readers change without a record change: journalled all the same
        "/identityv2/data/readers",
        params={"handle": f"{steel.prefix}/coil-A.001"},
        json={"index": 3, "readers": [f"code:{steel.credit_code}"]},
        headers=steel.headers,
    )
    assert granted.status_code == 200, granted.text
    await client.delete(f"/api/handles/{steel.prefix}/COIL-2026-000003", headers=steel.handle_admin)
    await client.delete(f"/api/handles/{steel.prefix}/private", headers=steel.handle_admin)
    put = await client.put(
        f"/api/handles/{steel.prefix}/COIL-2026-000004",
        headers=steel.handle_admin,
        json=[{"index": 1, "type": "URL", "data": "https://更新.example/4"}],
    )
    assert put.status_code in (200, 201), put.text
    put = await client.put(
        f"/api/handles/{paper.prefix}/paper_new",
        headers=paper.handle_admin,
        json=[{"index": 1, "type": "URL", "data": "https://paper.example/新"}],
    )
    assert put.status_code in (200, 201), put.text


async def test_deposits_validate_and_their_signatures_verify_with_openssl(
    client, fresh_node, settings, key_path, tmp_path, deposit_schema
):
    tenants = await _varied(client)
    key = load_signing_key(key_path)
    full = await make_deposit(fresh_node, settings, key, FULL, tmp_path / "out")
    await _changes_after_full(client, tenants)
    incr = await make_deposit(fresh_node, settings, key, INCR, tmp_path / "out")

    for written in (full, incr):
        _valid(deposit_schema, written.xml_path)
        assert check_file(written.xml_path, key.public_key()).deposit_id == written.info.deposit_id
    assert full.info.counts["urn:secnode:xml:ns:rdePrefix-1.0"] == 3
    # the schemas do check the objects: an element the mapping does not define is refused
    broken = tmp_path / "broken.xml"
    broken.write_bytes(
        full.xml_path.read_bytes().replace(b"<rdeIdentifier:crBy>", b"<rdeIdentifier:x/><rdeIdentifier:crBy>", 1)
    )
    assert not deposit_schema.validate(etree.parse(str(broken)))
    assert incr.info.prev_id == full.info.deposit_id and incr.info.from_seq == full.info.to_seq
    text = incr.xml_path.read_text()
    assert "<rde:deletes>" in text and "COIL-2026-000003" in text and "paper_new" in text

    # OpenSSL, which nobody here wrote, checks the detached signature with the node's public key
    public_pem = tmp_path / "node.pub.pem"
    public_pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    digest = tmp_path / "digest.bin"
    subprocess.run(["openssl", "dgst", "-sha256", "-binary", "-out", str(digest), str(full.xml_path)], check=True)
    verified = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public_pem), "-rawin", "-in", str(digest)]
        + ["-sigfile", str(full.sig_path)],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0 and "Signature Verified Successfully" in verified.stdout, verified.stderr

    tampered = full.xml_path.read_bytes().replace(b"Q235B", b"Q235C", 1)
    full.xml_path.write_bytes(tampered)
    with pytest.raises(EscrowInvalid, match="signature"):
        check_file(full.xml_path, key.public_key())


async def test_a_deposit_with_a_wrong_count_or_a_doctype_is_refused(client, fresh_node, settings, key_path, tmp_path):
    await onboard(client, "esccount")
    key = load_signing_key(key_path)
    full = await make_deposit(fresh_node, settings, key, FULL, tmp_path)
    data = full.xml_path.read_bytes()
    with pytest.raises(EscrowInvalid, match="counts"):
        summary(re.sub(rb'(rdeIdentifier-1.0">)(\d+)<', lambda m: m[1] + str(int(m[2]) + 1).encode() + b"<", data))
    with pytest.raises(EscrowInvalid, match="document type"):
        summary(data.replace(b"<rde:deposit", b'<!DOCTYPE x [<!ENTITY a "b">]><rde:deposit', 1))
    assert summary(with_resend(data, 3)).resend == 3


async def test_the_top_level_stores_deposits_and_refuses_a_bad_signature_a_gap_and_a_replay(
    client, fresh_node, database_url, key_path, tmp_path
):
    tenants = await _varied(client)
    key = load_signing_key(key_path)
    with running_toplevel(tmp_path) as top:
        settings = make_settings(database_url, upstream_url=top, node_key_file=key_path, sync_in_serve=False)
        full = await make_deposit(fresh_node, settings, key, FULL, tmp_path / "out")
        assert await send_pending(fresh_node, settings, key) == {"upstream": 1}
        async with fresh_node.unit_of_work() as session:
            row = await session.get(EscrowDeposit, full.info.deposit_id)
            assert row is not None
            receipt = row.destinations["upstream"]["receipt"]
        assert receipt["status"] == "stored" and receipt["depositId"] == full.info.deposit_id

        url = f"{top}/v1/nodes/{settings.node_prefix}/escrow"
        data, sig = full.xml_path.read_bytes(), full.sig_path.read_bytes()
        headers = {SIGNATURE_HEADER: _b64(sig)}
        replay = httpx.post(url, content=data, headers=headers)
        assert replay.status_code == 409 and replay.json()["error"] == "escrow.replay"
        forged = httpx.post(url, content=data.replace(b"Q235B", b"Q235C", 1), headers=headers)
        assert forged.status_code == 401 and forged.json()["error"] == "escrow.bad_signature"
        other_key = Ed25519PrivateKey.generate()
        foreign = httpx.post(url, content=data, headers={SIGNATURE_HEADER: _b64(signature.sign(data, other_key))})
        assert foreign.status_code == 401

        # a resend of a held deposit (same content, higher counter) gets a receipt again
        resent = with_resend(data, 1)
        again = httpx.post(url, content=resent, headers={SIGNATURE_HEADER: _b64(signature.sign(resent, key))})
        assert again.status_code == 200 and again.json()["status"] == "resent"

        await _changes_after_full(client, tenants)
        first = await make_deposit(fresh_node, settings, key, INCR, tmp_path / "out")
        await client.delete(
            f"/api/handles/{tenants['steel'].prefix}/COIL-2026-000005", headers=tenants["steel"].handle_admin
        )
        second = await make_deposit(fresh_node, settings, key, INCR, tmp_path / "out")
        skipped = second.xml_path.read_bytes()
        gap = httpx.post(url, content=skipped, headers={SIGNATURE_HEADER: _b64(second.sig_path.read_bytes())})
        assert gap.status_code == 409 and gap.json()["error"] == "escrow.gap"
        assert await send_pending(fresh_node, settings, key) == {"upstream": 2}
        held = httpx.get(url).json()["deposits"]
        assert [d["depositId"] for d in held] == [full.info.deposit_id, first.info.deposit_id, second.info.deposit_id]
        fetched = httpx.get(f"{url}/{second.info.deposit_id}")
        assert fetched.content == skipped


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def test_a_failed_upload_is_sent_again_with_its_resend_counter(
    client, fresh_node, database_url, key_path, tmp_path
):
    await onboard(client, "escagent")
    key = load_signing_key(key_path)
    port = free_port()
    settings = make_settings(
        database_url,
        escrow_agent_url=f"http://127.0.0.1:{port}",
        node_key_file=key_path,
        escrow_directory=str(tmp_path),
    )
    written = await run_once(fresh_node, settings, key)  # the agent is not there yet
    assert written is not None and written.info.kind == FULL
    assert await due(fresh_node, settings) is None
    async with fresh_node.unit_of_work() as session:
        row = await session.get(EscrowDeposit, written.info.deposit_id)
        assert row is not None and row.resend == 1
        assert row.destinations["agent"]["state"] == "pending" and row.destinations["agent"]["lastError"]
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    with running_toplevel(agent_dir, port=port):
        assert await run_once(fresh_node, settings, key) is None  # nothing due; the owed deposit goes out
        held = httpx.get(f"http://127.0.0.1:{port}/v1/nodes/{settings.node_prefix}/escrow").json()["deposits"]
    assert [(d["depositId"], d["resend"]) for d in held] == [(written.info.deposit_id, 1)]
    assert b' resend="1"' in written.xml_path.read_bytes()
    check_file(written.xml_path, key.public_key())  # the file on disk is what was sent, signed again


async def test_the_schedule_makes_an_incremental_deposit_when_one_is_due(
    client, fresh_node, database_url, key_path, tmp_path
):
    await onboard(client, "escsched")
    key = load_signing_key(key_path)
    settings = make_settings(database_url, escrow_incremental_hours=1 / 3600, escrow_directory=str(tmp_path))
    assert await due(fresh_node, settings) == FULL
    await run_once(fresh_node, settings, key)
    await asyncio.sleep(1.1)
    assert await due(fresh_node, settings) == INCR
    written = await run_once(fresh_node, settings, key)
    assert written is not None and written.info.kind == INCR


async def test_restore_rebuilds_a_node_that_answers_every_identifier_identically(
    client, fresh_node, settings, key_path, tmp_path
):
    tenants = await _varied(client)
    key = load_signing_key(key_path)
    out = tmp_path / "deposits"
    await make_deposit(fresh_node, settings, key, FULL, out)
    await _changes_after_full(client, tenants)
    await make_deposit(fresh_node, settings, key, INCR, out)
    steel = tenants["steel"]
    await client.delete(f"/api/handles/{steel.prefix}/COIL-2026-000007", headers=steel.handle_admin)
    put = await client.put(
        f"/api/handles/{steel.prefix}/COIL-2026-000009",  # changed twice: each increment carries its state then
        headers=steel.handle_admin,
        json=[{"index": 1, "type": "URL", "data": "https://x.example/again"}, {"index": 7, "type": "K", "data": "v"}],
    )
    assert put.status_code in (200, 201), put.text
    await make_deposit(fresh_node, settings, key, INCR, out)

    async with fresh_node.read_session() as session:
        handles = sorted((await session.execute(select(HandleRecord.handle))).scalars())
    ordered = chain(out, key.public_key())
    assert [c.info.kind for c in ordered] == [FULL, INCR, INCR]

    redis = Redis.from_url(redis_database(RESTORED_REDIS_DB))
    await redis.flushdb()
    await redis.aclose()
    async with migrated_database("postgresql", tmp_path) as url:
        restored_db = Database(url)
        try:
            result = await restore(restored_db, ordered)
            assert result.deposits == [c.info.deposit_id for c in ordered]
            with pytest.raises(EscrowRestoreRefused):
                await restore(restored_db, ordered)
            restored_settings = make_settings(url, redis_url=redis_database(RESTORED_REDIS_DB))
            app = create_app(restored_settings, db=restored_db)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=ResolverFastPath(app))
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as twin:
                    await _same_answers(client, twin, handles, tenants)
                    assert await _grants(restored_db) == await _grants(fresh_node) != []
                    assert await _templates(restored_db) == await _templates(fresh_node) != []
                    # a deleted name stays taken on the restored node as on the original
                    again = [{"index": 1, "type": "URL", "data": "https://x.example/new"}]
                    for node in (client, twin):
                        refused = await node.put(
                            f"/api/handles/{steel.prefix}/private", headers=steel.handle_admin, json=again
                        )
                        assert refused.json()["error"] == "handle.tombstoned", refused.text
        finally:
            await restored_db.dispose()


async def _grants(db: Database) -> list[tuple]:
    async with db.read_session() as session:
        rows = await session.execute(select(ReadGrant.handle_key, ReadGrant.value_index, ReadGrant.grantee))
        return sorted(tuple(r) for r in rows)


async def _templates(db: Database) -> list[tuple]:
    async with db.read_session() as session:
        query = select(
            Template.prefix,
            Template.version,
            Template.description,
            TemplateItem.item_index,
            TemplateItem.name,
            TemplateItem.id_type,
            TemplateItem.required,
            TemplateItem.item_metadata,
        ).join(TemplateItem, TemplateItem.template_id == Template.id)
        return sorted(tuple(str(c) for c in r) for r in await session.execute(query))


async def _same_answers(original, twin, handles: list[str], tenants: dict) -> None:
    deleted, restricted_seen = 0, 0
    for handle in handles:
        prefix = handle.partition("/")[0]
        owner = next((t for t in tenants.values() if t.prefix == prefix), None)
        asks = [{}]
        if owner is not None:
            asks.append(owner.handle_admin)
        for headers in asks:
            here = await original.get(f"/api/handles/{handle}", headers=headers)
            there = await twin.get(f"/api/handles/{handle}", headers=headers)
            assert (there.status_code, there.json()) == (here.status_code, here.json()), handle
            deleted += here.status_code == 404
            restricted_seen += headers != {} and "SECRET_NOTE" in here.text
    assert deleted >= 3  # the deleted identifiers are gone on both
    assert restricted_seen == 1  # the administrator reads the restricted value on both (its secret was restored)


async def test_restore_refuses_a_gap_and_writes_nothing(client, fresh_node, settings, key_path, tmp_path):
    tenants = await _varied(client)
    key = load_signing_key(key_path)
    out = tmp_path / "deposits"
    await make_deposit(fresh_node, settings, key, FULL, out)
    await _changes_after_full(client, tenants)
    middle = await make_deposit(fresh_node, settings, key, INCR, out)
    await client.delete(
        f"/api/handles/{tenants['steel'].prefix}/COIL-2026-000008", headers=tenants["steel"].handle_admin
    )
    await make_deposit(fresh_node, settings, key, INCR, out)
    middle.xml_path.unlink()
    middle.sig_path.unlink()
    with pytest.raises(EscrowGap, match="missing"):
        chain(out, key.public_key())


async def test_serve_runs_the_schedule_and_the_top_level_holds_the_deposits(
    fresh_node, database_url, key_path, tmp_path
):
    with running_toplevel(tmp_path) as top:
        settings = make_settings(
            database_url,
            upstream_url=top,
            node_key_file=key_path,
            sync_in_serve=False,
            escrow_enabled=True,
            escrow_check_seconds=0.2,
            escrow_incremental_hours=1 / 3600,
            escrow_directory=str(tmp_path / "escrow"),
        )
        app = create_app(settings, db=fresh_node)
        async with app.router.lifespan_context(app):
            url = f"{top}/v1/nodes/{settings.node_prefix}/escrow"
            deadline = asyncio.get_running_loop().time() + 30
            while len(held := httpx.get(url).json()["deposits"]) < 2:
                assert asyncio.get_running_loop().time() < deadline, f"deposits held: {held}"
                await asyncio.sleep(0.3)
            metrics = (await httpx.AsyncClient(transport=httpx.ASGITransport(app=app)).get("http://t/metrics")).text
    assert [d["type"] for d in held[:2]] == [FULL, INCR] and held[1]["prevId"] == held[0]["depositId"]
    assert 'secnode_escrow_deposits_total{type="FULL"}' in metrics
    async with fresh_node.read_session() as session:
        actions = (
            await session.execute(select(AuditEntry.action).where(AuditEntry.actor == "system:escrow"))
        ).scalars()
        assert any(a.startswith("ESCROW deposit FULL") for a in actions)


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "escrow", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_command_line_deposits_verifies_and_restores(client, fresh_node, database_url, key_path, tmp_path):
    tenant = await onboard(client, "esccli")
    await client.post(
        "/identityv2/data/batchCreate", json=[coil(tenant.prefix, i) for i in range(3)], headers=tenant.headers
    )
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SECNODE_NODE_KEY_FILE": key_path}
    out = tmp_path / "deposits"
    made = _cli(["deposit", "--full", "--out", str(out)], {**base, "SECNODE_DATABASE_URL": database_url}, tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "FULL deposit" in made.stdout
    await client.delete(f"/api/handles/{tenant.prefix}/COIL-2026-000001", headers=tenant.handle_admin)
    made = _cli(
        ["deposit", "--incremental", "--out", str(out)], {**base, "SECNODE_DATABASE_URL": database_url}, tmp_path
    )
    assert made.returncode == 0, made.stdout + made.stderr
    checked = _cli(["verify", str(out)], base, tmp_path)
    assert checked.returncode == 0 and checked.stdout.count("ok ") == 2, checked.stdout + checked.stderr
    async with scratch_database() as empty:
        env = {**base, "SECNODE_DATABASE_URL": empty}
        restored = _cli(["restore", str(out)], env, tmp_path)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "1 deleted" in restored.stdout
        again = _cli(["restore", str(out)], env, tmp_path)
        assert again.returncode == 1 and "already holds" in again.stdout
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    forged = _cli(["verify", str(out), "--public-key", str(other)], base, tmp_path)
    assert forged.returncode == 1 and "signature" in forged.stdout
