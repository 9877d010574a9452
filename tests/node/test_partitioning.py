"""Hash partitioning of the identifier and value tables (migration 0006): the schema the suite runs on is partitioned, a
look-up by identifier touches one partition, and the migration moves existing rows both ways."""

import asyncpg
from sqlalchemy.engine import make_url

from foundation.config import Settings
from foundation.migrate import downgrade, upgrade
from tests.conftest import scratch_database

PARTITIONED = {"handles", "handle_history"}


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _partitions(connection: asyncpg.Connection) -> dict[str, int]:
    rows = await connection.fetch(
        "SELECT c.relname, count(i.inhrelid) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "LEFT JOIN pg_inherits i ON i.inhparent = c.oid WHERE p.partstrat = 'h' GROUP BY c.relname"
    )
    return dict(rows)


async def test_the_suite_runs_on_hash_partitioned_tables(database_url):
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        assert await _partitions(connection) == {t: Settings().database_partitions for t in PARTITIONED}
        plan = "\n".join(
            r[0] for r in await connection.fetch("EXPLAIN SELECT version FROM handles WHERE handle_key = '88.118.1/x'")
        )
        assert plan.count(" on handles_p") == 1, plan  # pruned to the one partition that can hold the key
        # The resolver's prepared statements run generic plans: pruned at execution time.
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        await connection.execute("PREPARE one_record(text) AS SELECT version FROM handles WHERE handle_key = $1")
        plan = "\n".join(r[0] for r in await connection.fetch("EXPLAIN (ANALYZE, COSTS OFF) EXECUTE one_record('x')"))
        assert f"Subplans Removed: {Settings().database_partitions - 1}" in plan, plan
    finally:
        await connection.close()


async def test_migration_moves_rows_into_partitions_and_back(monkeypatch):
    monkeypatch.setenv("SECNODE_DATABASE_PARTITIONS", "4")
    async with scratch_database() as url:
        upgrade(url, "0005")
        connection = await asyncpg.connect(_dsn(url))
        try:
            await connection.execute(
                'INSERT INTO handles (handle_key, handle, prefix_key, version, deleted, "values", created_at, '
                "created_by, updated_at, updated_by) SELECT '88.118.1/n' || n, '88.118.1/N' || n, '88.118.1', 1, "
                "false, '[]', now(), 'test', now(), 'test' FROM generate_series(1, 200) AS n"
            )
            upgrade(url, "0006")
            assert (await _partitions(connection))["handles"] == 4
            assert await connection.fetchval("SELECT count(*) FROM handles") == 200
            filled = await connection.fetchval("SELECT count(DISTINCT tableoid) FROM handles")
            assert filled == 4  # 200 keys spread over every partition

            downgrade(url, "0005")
            assert await _partitions(connection) == {}
            assert await connection.fetchval("SELECT count(*) FROM handles") == 200
        finally:
            await connection.close()
