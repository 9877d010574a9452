"""The tamper-evident audit log: every write and administrative request, refused or not, with who, what, when,
from where and the result; hash-chained, append-only on PostgreSQL, and `secnode audit verify` names an edited or
deleted entry."""

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select, text

from node.config import Settings
from node.db import Database
from node.faces import client_address
from node.migrate import upgrade
from registry.audit import chain
from registry.audit.models import AuditEntry
from tests.conftest import _asyncpg_dsn, scratch_database
from tests.factories import basic, onboard

URL = [{"index": 1, "type": "URL", "data": "https://example.com/a"}]


async def _entries_after(db: Database, seq: int) -> list[AuditEntry]:
    async with db.read_session() as session:
        return list((await session.execute(select(AuditEntry).where(AuditEntry.seq > seq)
                                           .order_by(AuditEntry.seq))).scalars())


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
    assert (await client.post("/identity/token", json={"username": "audited", "password": "nope"})).status_code \
        == 401
    assert (await client.put(f"/api/handles/{handle}", json=URL)).status_code == 401  # no credentials at all
    assert (await client.get(f"/api/handles/{handle}")).status_code == 200  # reads are not audited
    assert (await client.post("/identity/token", json={"username": "audited", "password": tenant.password})) \
        .status_code == 200

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


def test_the_source_behind_a_trusted_proxy_is_the_forwarded_address():
    settings = Settings(trusted_proxies=["10.0.0.5"])
    forwarded = [(b"x-forwarded-for", b"203.0.113.9, 10.0.0.77")]
    assert client_address({"client": ("10.0.0.5", 1), "headers": forwarded}, settings) == "10.0.0.77"
    assert client_address({"client": ("198.51.100.1", 1), "headers": forwarded}, settings) == "198.51.100.1"


def _verify_command(url: str) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SECNODE_")}, "SECNODE_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "node.cli", "audit", "verify"], env=env, capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2], timeout=120)


async def _five_entries(db: Database) -> None:
    for n in range(5):
        async with db.unit_of_work() as session:
            await chain.append(session, actor=f"user:u{n}", action=f"PUT /api/handles/88.118/{n}", source="::1",
                               result=200)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_an_edited_or_deleted_entry_is_named(dialect, tmp_path):
    async with scratch_database() as pg_url:
        url = pg_url if dialect == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/audit.db"
        upgrade(url)
        db = Database(url)
        try:
            await _five_entries(db)
            intact = _verify_command(url)
            assert intact.returncode == 0 and "5 entries" in intact.stdout and "intact" in intact.stdout

            if dialect == "postgresql":
                connection = await asyncpg.connect(_asyncpg_dsn(url))
                for statement in ("UPDATE audit_log SET result = 403 WHERE seq = 2",
                                  "DELETE FROM audit_log WHERE seq = 4", "TRUNCATE audit_log"):
                    with pytest.raises(asyncpg.RaiseError, match="append-only"):
                        await connection.execute(statement)
                # Whoever owns the table can switch the guard off: the chain still tells.
                await connection.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
                await connection.close()
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
