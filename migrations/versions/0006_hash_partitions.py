"""hash-partition the identifier and value tables (PostgreSQL; SQLite unchanged)

``handles`` and ``handle_history`` are split into ``SECNODE_DATABASE_PARTITIONS`` hash partitions of ``handle_key``
(read when this migration runs; changing it later means re-partitioning). Existing rows are moved over. The trace
tables stay whole: a trace level looks up many identifiers at once, which PostgreSQL cannot prune per identifier
under a generic plan (measured: several times slower at 32 partitions); they carry ``handle_key`` for Citus.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# table -> (primary key columns, {index name: columns})
TABLES = {
    "handles": (["handle_key"], {"ix_handles_prefix_key_handle_key": ["prefix_key", "handle_key"]}),
    "handle_history": (["handle_key", "version"], {}),
}


def _partitions() -> int:
    from foundation.config import Settings

    count = Settings().database_partitions  # read now, from the environment
    if not 1 <= count <= 1024:
        raise ValueError("SECNODE_DATABASE_PARTITIONS must be from 1 to 1024")
    return count


def _rebuild(table: str, partitions: int | None) -> None:
    """Recreate ``table`` (hash-partitioned in ``partitions``, or plain when None) and move its rows."""
    key, indexes = TABLES[table]
    old = f"{table}_before"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_{table} TO pk_{old}")
    for name in indexes:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_before")
    layout = " PARTITION BY HASH (handle_key)" if partitions else ""
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING STORAGE){layout}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(key)})")
    for name, columns in indexes.items():
        op.execute(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})")
    for remainder in range(partitions or 0):
        op.execute(f"CREATE TABLE {table}_p{remainder:03d} PARTITION OF {table} "
                   f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    partitions = _partitions()
    for table in TABLES:
        _rebuild(table, partitions)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(table, None)
