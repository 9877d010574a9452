"""Migration 0013 fills the value index from the records already there, on PostgreSQL and SQLite, with the writer's
own rule; on PostgreSQL the plans of the searches use the indexes, not a scan of the table."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

from foundation.db import Database
from foundation.migrate import downgrade, upgrade
from registry.kernel.value_index import VALUE_KEY_CHARS, Term, Visibility, candidates, search_query
from tests.conftest import scratch_database

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SECRET = {"index": 300, "type": "HS_SECKEY", "data": {"format": "string", "value": "scrypt$hash"}}
ADMIN = {
    "index": 100,
    "type": "HS_ADMIN",
    "data": {"format": "admin", "value": {"handle": "88.1/admin", "index": 300, "permissions": "111111111111"}},
}


def _value(index: int, kind: str, data: str, permissions: str | None = None) -> dict:
    value = {"index": index, "type": kind, "data": {"format": "string", "value": data}, "ttl": 86400}
    if permissions:
        value["permissions"] = permissions
    return value


RECORDS = [
    ("88.1/a", [ADMIN, _value(1, "URL", "https://Example.com/A"), SECRET], False),
    ("88.1/b", [_value(1, "URL", "https://example.com/" + "b" * 400), _value(2, "NOTE", "x", "1100")], False),
    ("88.1/gone", [_value(1, "URL", "https://example.com/gone")], True),
]


async def _insert(db: Database) -> None:
    async with db.unit_of_work() as session:
        for key, values, deleted in RECORDS:
            await session.execute(
                text(
                    'INSERT INTO handles (handle_key, handle, prefix_key, version, deleted, "values", template_key, '
                    "created_at, created_by, updated_at, updated_by) VALUES (:k, :k, '88.1', 1, :d, :v, NULL, "
                    ":now, 'test', :now, 'test')"
                ),
                {"k": key, "d": deleted, "v": json.dumps(values), "now": NOW},
            )


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_the_migration_fills_the_index_from_live_records(dialect, tmp_path):
    async with scratch_database() as pg_url:
        url = pg_url if dialect == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/node.db"
        upgrade(url, "0012")
        db = Database(url)
        try:
            await _insert(db)
            upgrade(url)
            async with db.read_session() as session:
                rows = (
                    await session.execute(
                        text(
                            "SELECT handle_key, value_index, prefix_key, type_key, value_key, public_read "
                            "FROM handle_value_index ORDER BY handle_key, value_index"
                        )
                    )
                ).all()
                assert [tuple(r) for r in rows] == [
                    ("88.1/a", 1, "88.1", "url", "https://example.com/a", True),
                    ("88.1/b", 1, "88.1", "url", ("https://example.com/" + "b" * 400)[:VALUE_KEY_CHARS], True),
                    ("88.1/b", 2, "88.1", "note", "x", False),
                ]  # no secret, no admin value, nothing of a deleted record
                found = await candidates(
                    session,
                    [Term("url", "https://example.com/*")],
                    Visibility(),
                    prefix_key=None,
                    offset=0,
                    limit=10,
                    timeout_ms=5000,
                )
                assert found == ["88.1/a", "88.1/b"]
        finally:
            await db.dispose()
        downgrade(url, "0012")
        upgrade(url)


async def _plan(db: Database, sql: str) -> str:
    async with db.read_session() as session:
        return "\n".join(r[0] for r in (await session.execute(text("EXPLAIN " + sql))).all())


def _sql(terms: list[Term], visibility: Visibility, prefix_key: str | None) -> str:
    query = search_query(terms, visibility, prefix_key=prefix_key, offset=0, limit=1000)
    return str(query.compile(dialect=pg_asyncpg.dialect(), compile_kwargs={"literal_binds": True}))


async def test_searches_use_the_indexes_on_postgresql():
    async with scratch_database() as url:
        upgrade(url)
        db = Database(url)
        try:
            async with db.unit_of_work() as session:  # 300,000 values over 30 prefixes, one in ten restricted
                await session.execute(
                    text(
                        "INSERT INTO handle_value_index SELECT '88.' || (n % 30) || '/' || n, 1, '88.' || (n % 30), "
                        "'url', 'https://example.com/item/' || n, n % 10 <> 0 FROM generate_series(1, 300000) n"
                    )
                )
                await session.execute(text("ANALYZE handle_value_index"))
            owner = Visibility(prefixes=frozenset({"88.12"}))
            for terms, visibility, prefix_key in (
                ([Term("url", "https://example.com/item/4242")], Visibility(), None),
                ([Term("url", "https://example.com/item/42*")], Visibility(), None),
                ([Term("url", "https://example.com/item/42*")], owner, "88.12"),
                ([Term("url", "*")], Visibility(), None),
                ([Term("url", "*item/4242*")], Visibility(), None),
                ([Term("url", "https://example.com/item/42*"), Term("url", "*/4*")], owner, None),
            ):
                plan = await _plan(db, _sql(terms, visibility, prefix_key))
                assert "Seq Scan" not in plan, plan
                assert "ix_handle_value_index" in plan or "pk_handle_value_index" in plan, plan
        finally:
            await db.dispose()


async def test_a_search_longer_than_its_bound_is_refused(db):
    from sqlalchemy import func, select

    from registry.kernel import value_index
    from registry.kernel.errors import SearchTooBroad

    async with db.read_session() as session:
        with pytest.raises(SearchTooBroad) as refused:
            await value_index._bounded(session, select(func.pg_sleep(1)), 50)
        assert refused.value.name == "search.too_broad" and "50 ms" in refused.value.message
    async with db.read_session() as session:  # within the bound it answers, and the bound ends with the query
        assert await value_index._bounded(session, select(func.now()), 5000)
        assert (await session.execute(text("SHOW statement_timeout"))).scalar_one() == "0"


async def test_the_trigram_index_can_be_left_out(monkeypatch):
    from registry.kernel.value_index import has_trigram_index

    monkeypatch.setenv("SECNODE_SEARCH_TRIGRAM", "false")
    async with scratch_database() as url:
        upgrade(url)
        db = Database(url)
        try:
            async with db.read_session() as session:
                assert not await has_trigram_index(session)
        finally:
            await db.dispose()
    monkeypatch.delenv("SECNODE_SEARCH_TRIGRAM")
    async with scratch_database() as url:
        upgrade(url)
        db = Database(url)
        try:
            async with db.read_session() as session:
                assert await has_trigram_index(session)
        finally:
            await db.dispose()
