"""The tamper-evident audit log: every write and administrative request, refused or not, with who, what, when,
from where and the result; hash-chained, append-only on PostgreSQL, and `secnode audit verify` names an edited or
deleted entry."""

import asyncio
import getpass
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text

from foundation.config import Settings
from foundation.db import Database
from foundation.http.requests import client_address
from foundation.migrate import upgrade
from node.app import create_app
from registry.audit import chain
from registry.audit.models import AuditEntry
from tests.conftest import _asyncpg_dsn, migrated_database
from tests.factories import basic, onboard
from tests.registry.test_bulk_import import cli, finished, sheet, write_csv, write_mapping

URL = [{"index": 1, "type": "URL", "data": "https://example.com/a"}]


async def _entries_after(db: Database, seq: int) -> list[AuditEntry]:
    async with db.read_session() as session:
        return list(
            (await session.execute(select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq))).scalars()
        )


async def _head(db: Database) -> int:
    async with db.read_session() as session:
        return (await session.execute(text("SELECT coalesce(max(seq), 0) FROM audit_log"))).scalar_one()


async def test_writes_and_refusals_are_audited_and_reads_are_not(client, fresh_node):
    tenant = await onboard(client, "audited")
    handle = f"{tenant.prefix}/A-1"
    before = await _head(fresh_node)

    assert (await client.put(f"/api/handles/{handle}", json=URL, headers=tenant.handle_admin)).status_code == 201
    wrong = basic(f"300:{tenant.prefix}/admin", "not-the-secret")
    assert (await client.delete(f"/api/handles/{handle}", headers=wrong)).status_code == 401
    assert (await client.post("/identity/token", json={"username": "audited", "password": "nope"})).status_code == 401
    assert (await client.put(f"/api/handles/{handle}", json=URL)).status_code == 401  # no credentials at all
    assert (await client.get(f"/api/handles/{handle}")).status_code == 200  # reads are not audited
    assert (
        await client.post("/identity/token", json={"username": "audited", "password": tenant.password})
    ).status_code == 200

    got = [(e.actor, e.action, e.result, e.source) for e in await _entries_after(fresh_node, before)]
    assert got == [
        (f"300:{tenant.prefix}/admin", f"PUT /api/handles/{handle}", 201, "127.0.0.1"),
        (f"claimed:300:{tenant.prefix}/admin", f"DELETE /api/handles/{handle}", 401, "127.0.0.1"),
        ("claimed:user:audited", "POST /identity/token", 401, "127.0.0.1"),
        ("anonymous", f"PUT /api/handles/{handle}", 401, "127.0.0.1"),
        ("user:audited", "POST /identity/token", 200, "127.0.0.1"),
    ]
    async with fresh_node.read_session() as session:
        report = await chain.verify(session)
    assert report.problems == [] and report.head_seq == before + 5


async def test_concurrent_writes_are_each_audited_in_one_unbroken_chain(client, fresh_node):
    """The middleware appends in groups (one transaction for whoever arrived meanwhile): every request still gets
    its own entry, written before its answer, and the chain stays whole."""
    tenant = await onboard(client, "grouped")
    before = await _head(fresh_node)
    answers = await asyncio.gather(
        *(client.put(f"/api/handles/{tenant.prefix}/G-{n}", json=URL, headers=tenant.handle_admin) for n in range(40))
    )
    assert [a.status_code for a in answers] == [201] * 40
    got = sorted(e.action for e in await _entries_after(fresh_node, before))
    assert got == sorted(f"PUT /api/handles/{tenant.prefix}/G-{n}" for n in range(40))
    async with fresh_node.read_session() as session:
        report = await chain.verify(session)
    assert report.problems == [] and report.head_seq == before + 40


async def test_a_request_whose_audit_entry_cannot_be_written_fails(client, fresh_node, monkeypatch):
    tenant = await onboard(client, "unaudited")
    before = await _head(fresh_node)

    async def broken(*args, **kwargs):
        raise ConnectionRefusedError("the audit log's database is gone")

    monkeypatch.setattr(chain, "append_many", broken)
    handle = await client.put(f"/api/handles/{tenant.prefix}/U-1", json=URL, headers=tenant.handle_admin)
    assert handle.status_code == 503, handle.text
    assert handle.json()["responseCode"] == 2 and handle.json()["error"] == "audit.unavailable"
    business = await client.post("/identity/token", json={"username": "unaudited", "password": tenant.password})
    assert business.status_code == 503, business.text
    assert business.json()["status"] == -4 and business.json()["error"] == "audit.unavailable"
    assert await _head(fresh_node) == before
    monkeypatch.undo()
    assert (
        await client.put(f"/api/handles/{tenant.prefix}/U-2", json=URL, headers=tenant.handle_admin)
    ).status_code == 201


async def test_a_waiting_request_that_goes_away_leaves_the_others_answered(fresh_node, monkeypatch):
    """A request cancelled while its entry waits for the next group (its client went away) must not keep the
    entries of that group from being answered."""
    from registry.audit.middleware import GroupAppender

    real = chain.append_many

    async def slow(*args, **kwargs):
        await asyncio.sleep(0.2)
        return await real(*args, **kwargs)

    monkeypatch.setattr(chain, "append_many", slow)
    appender = GroupAppender(fresh_node, "sha256")
    entry = {"actor": "t", "action": "PUT /x", "source": "127.0.0.1", "result": 200}
    first = asyncio.create_task(appender.append(entry))
    await asyncio.sleep(0.05)  # the first group is being written; the next two wait for the next group
    gone, stays = asyncio.create_task(appender.append(entry)), asyncio.create_task(appender.append(entry))
    await asyncio.sleep(0.05)
    gone.cancel()
    await asyncio.wait_for(asyncio.gather(first, stays), 5)


def test_the_source_behind_a_trusted_proxy_is_the_forwarded_address():
    settings = Settings(trusted_proxies=["10.0.0.5"])
    forwarded = [(b"x-forwarded-for", b"203.0.113.9, 10.0.0.77")]
    assert client_address({"client": ("10.0.0.5", 1), "headers": forwarded}, settings) == "10.0.0.77"
    assert client_address({"client": ("198.51.100.1", 1), "headers": forwarded}, settings) == "198.51.100.1"
    ranges = Settings(trusted_proxies=["10.42.7.1/16", "fd00::/8"])
    assert ranges.trusted_proxies == ["10.42.0.0/16", "fd00::/8"]
    assert client_address({"client": ("10.42.200.3", 1), "headers": forwarded}, ranges) == "10.0.0.77"
    assert client_address({"client": ("fd12::1", 1), "headers": forwarded}, ranges) == "10.0.0.77"
    assert client_address({"client": ("10.43.0.1", 1), "headers": forwarded}, ranges) == "10.43.0.1"
    with pytest.raises(ValueError, match="proxy-host"):
        Settings(trusted_proxies=["proxy-host"])


def _command(url: str, *args: str, **settings: str) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SECNODE_")},
        "SECNODE_DATABASE_URL": url,
        **{f"SECNODE_{name.upper()}": value for name, value in settings.items()},
    }
    return subprocess.run(
        [sys.executable, "-m", "node.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )


def _verify_command(url: str) -> subprocess.CompletedProcess:
    """With the default setting (SHA-256), whatever the entries were written with."""
    return _command(url, "audit", "verify")


async def _five_entries(db: Database, algorithm: str = "sha256") -> None:
    for n in range(5):
        async with db.unit_of_work() as session:
            await chain.append(
                session,
                actor=f"user:u{n}",
                action=f"PUT /api/handles/88.118/{n}",
                source="::1",
                result=200,
                algorithm=algorithm,
            )


async def _switch_off_append_only(url: str) -> None:
    """Whoever owns the table can switch the guard off: the chain still tells."""
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    await connection.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
    await connection.close()


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_an_edited_or_deleted_entry_is_named(dialect, tmp_path):
    async with migrated_database(dialect, tmp_path) as url:
        db = Database(url)
        try:
            await _five_entries(db)
            intact = _verify_command(url)
            assert intact.returncode == 0 and "5 entries" in intact.stdout and "intact" in intact.stdout

            if dialect == "postgresql":
                connection = await asyncpg.connect(_asyncpg_dsn(url))
                for statement in (
                    "UPDATE audit_log SET result = 403 WHERE seq = 2",
                    "DELETE FROM audit_log WHERE seq = 4",
                    "TRUNCATE audit_log",
                ):
                    with pytest.raises(asyncpg.RaiseError, match="append-only"):
                        await connection.execute(statement)
                await connection.close()
                await _switch_off_append_only(url)
            async with db.unit_of_work() as session:
                await session.execute(text("UPDATE audit_log SET actor = 'user:someone-else' WHERE seq = 2"))
                await session.execute(text("DELETE FROM audit_log WHERE seq = 4"))
        finally:
            await db.dispose()

        tampered = _verify_command(url)
        assert tampered.returncode == 1, tampered.stdout + tampered.stderr
        assert "entry 2 was edited" in tampered.stdout
        assert "entry 4 missing (deleted)" in tampered.stdout
        assert "entry 3" not in tampered.stdout and "entry 5 was" not in tampered.stdout


# ---- SM3 (SECNODE_AUDIT_HASH=sm3) ----------------------------------------------------------------------------


def test_sm3_gives_the_standard_test_vectors(monkeypatch):
    # GB/T 32905-2016, appendix A: "abc" and "abcd" sixteen times; OpenSSL's SM3 (when present) and gmssl's alike
    for openssl in sorted({False, chain._OPENSSL_SM3}):
        monkeypatch.setattr(chain, "_OPENSSL_SM3", openssl)
        assert chain.HASHES["sm3"](b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        assert chain.HASHES["sm3"](b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


async def _chain(db: Database) -> list[tuple[int, str, str]]:
    async with db.read_session() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars()
        return [(e.seq, e.actor, e.action) for e in rows]


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_an_sm3_chain_verifies_and_an_edited_sm3_entry_is_named(dialect, tmp_path):
    async with migrated_database(dialect, tmp_path) as url:
        db = Database(url)
        try:
            await _five_entries(db, "sm3")
            # the node's first entry says from where on the chain is SM3; nothing else is added
            entries = await _chain(db)
            assert entries[0] == (1, "system", "AUDIT hash sm3") and len(entries) == 6
            async with db.read_session() as session:
                report = await chain.verify(session)
            assert report.problems == [] and report.head_algorithm == "sm3"
            intact = _verify_command(url)  # the setting says SHA-256 now: each entry is checked with its own
            assert intact.returncode == 0 and "6 entries" in intact.stdout and "intact" in intact.stdout, (
                intact.stdout + intact.stderr
            )
            assert "(sm3)" in intact.stdout

            if dialect == "postgresql":
                await _switch_off_append_only(url)
            async with db.unit_of_work() as session:
                await session.execute(text("UPDATE audit_log SET result = 500 WHERE seq = 3"))
        finally:
            await db.dispose()

        tampered = _verify_command(url)
        assert tampered.returncode == 1, tampered.stdout + tampered.stderr
        assert "entry 3 was edited" in tampered.stdout
        assert [line for line in tampered.stdout.splitlines() if "tampered" in line] == [
            "tampered entry 3 was edited: its content no longer matches its hash"
        ]


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_a_chain_that_switches_algorithm_verifies(dialect, tmp_path):
    async with migrated_database(dialect, tmp_path) as url:
        db = Database(url)
        try:
            for algorithm in ("sha256", "sha256", "sm3", "sm3", "sha256", "sm3"):
                async with db.unit_of_work() as session:
                    await chain.append(
                        session,
                        actor="user:u",
                        action="POST /identity/token",
                        source="::1",
                        result=200,
                        algorithm=algorithm,
                    )
            # a command of the node administrator, on a node set to SM3
            listed = _command(url, "enterprise", "list", audit_hash="sm3")
            assert listed.returncode == 0, listed.stdout + listed.stderr
            switches = [(seq, action) for seq, actor, action in await _chain(db) if actor == "system"]
            assert switches == [(3, "AUDIT hash sm3"), (6, "AUDIT hash sha256"), (8, "AUDIT hash sm3")]
            assert (await _chain(db))[-1][2] == "CLI enterprise list"
        finally:
            await db.dispose()

        verified = _verify_command(url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "10 entries" in verified.stdout and "intact" in verified.stdout and "(sm3)" in verified.stdout


async def test_requests_are_chained_with_sm3_when_the_node_is_set_to_it(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/foundation.db"
    upgrade(url)
    db = Database(url)
    app = create_app(Settings(database_url=url, audit_hash="sm3"), db=db)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                refused = await http.post("/identity/token", json={"username": "nobody", "password": "x"})
                assert refused.status_code == 401
        assert [(actor, action) for _, actor, action in await _chain(db)] == [
            ("system", "AUDIT hash sm3"),
            ("claimed:user:nobody", "POST /identity/token"),
        ]
        async with db.read_session() as session:
            report = await chain.verify(session)
        assert report.problems == [] and report.head_algorithm == "sm3"
    finally:
        await db.dispose()


# ---- secnode import and export -----------------------------------------------------------------------------


async def test_import_and_export_are_audited(client, fresh_node, database_url, tmp_path):
    tenant = await onboard(client, "auditedbulk")
    rows, _ = sheet(20)
    source = tmp_path / "coils.csv"
    write_csv(source, rows)
    mapping = write_mapping(tmp_path / "mapping.json")
    before = await _head(fresh_node)

    # the file after the options is still named; the options never are (they may carry secrets)
    code, output = await finished(
        await cli(
            "import",
            "--prefix",
            tenant.prefix,
            "--template",
            "steel-coil-1.0",
            "--mapping",
            str(mapping),
            str(source),
            cwd=tmp_path,
            database_url=database_url,
        )
    )
    assert code == 0, output
    code, output = await finished(
        await cli(
            "export",
            "--prefix",
            tenant.prefix,
            "--output",
            str(tmp_path / "out.csv"),
            cwd=tmp_path,
            database_url=database_url,
        )
    )
    assert code == 0, output
    code, output = await finished(
        await cli(
            "export",
            "--prefix",
            "88.118.999999",
            "--output",
            str(tmp_path / "none.csv"),
            cwd=tmp_path,
            database_url=database_url,
        )
    )
    assert code == 1, output

    operator = f"cli:{getpass.getuser()}"
    got = [(e.actor, e.action, e.result, e.source) for e in await _entries_after(fresh_node, before)]
    assert got == [
        (operator, f"CLI import {source}", 0, "local"),
        (operator, "CLI export", 0, "local"),
        (operator, "CLI export", 1, "local"),
    ]
    verified = _verify_command(database_url)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr
