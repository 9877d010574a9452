"""the value index for search by value (reverse look-up), filled from the live records

``handle_value_index`` holds one row per searchable value (string format, not HS_SECKEY) of every live record:
the case-folded type and value head, the public-read bit and the prefix. Two B-tree indexes serve exact and
prefix look-ups (``type, value`` and ``prefix, type, value``); on PostgreSQL the value is collated "C" so a prefix
is a range, and a trigram GIN index serves leading wildcards when the pg_trgm extension can be made (skipped, with
a notice, when it cannot or when ``SECNODE_SEARCH_TRIGRAM=false``: leading wildcards are then refused). Not
partitioned: look-ups go by value, which the records' hash of ``handle_key`` cannot prune. The rows are computed in Python, as the writer computes them
(``registry.kernel.value_index.entries``), never with the database's locale. See docs/adr/0011-search-by-value.md.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 5000


def _backfill(bind: sa.engine.Connection) -> None:
    from registry.kernel.value_index import entries  # the writer's own rule

    table = sa.table(
        "handle_value_index",
        sa.column("handle_key"),
        sa.column("value_index"),
        sa.column("prefix_key"),
        sa.column("type_key"),
        sa.column("value_key"),
        sa.column("public_read"),
    )
    after = ""
    while True:
        rows = bind.execute(
            sa.text(
                'SELECT handle_key, prefix_key, "values" FROM handles '
                "WHERE handle_key > :after AND NOT deleted ORDER BY handle_key LIMIT :batch"
            ),
            {"after": after, "batch": BATCH},
        ).all()
        if not rows:
            return
        indexed = []
        for key, prefix_key, values in rows:
            if isinstance(values, str):  # SQLite hands JSON back as text
                values = json.loads(values)
            indexed += entries(key, prefix_key, values or [])
        if indexed:
            bind.execute(sa.insert(table), indexed)
        after = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.create_table(
        "handle_value_index",
        sa.Column("handle_key", sa.Text(), nullable=False),
        sa.Column("value_index", sa.BigInteger(), nullable=False),
        sa.Column("prefix_key", sa.String(length=128), nullable=False),
        sa.Column("type_key", sa.Text(), nullable=False),
        sa.Column("value_key", sa.Text(collation="C") if postgres else sa.Text(), nullable=False),
        sa.Column("public_read", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("handle_key", "value_index", name=op.f("pk_handle_value_index")),
    )
    _backfill(bind)
    op.create_index(
        "ix_handle_value_index_type_value", "handle_value_index", ["type_key", "value_key", "handle_key"]
    )
    op.create_index(
        "ix_handle_value_index_prefix_type_value",
        "handle_value_index",
        ["prefix_key", "type_key", "value_key", "handle_key"],
    )
    if postgres and _trigram_wanted():
        _trigram_index(bind)


def _trigram_wanted() -> bool:
    from foundation.config import Settings

    wanted = Settings().search_trigram  # read now, from the environment (SECNODE_SEARCH_TRIGRAM)
    if not wanted:
        print("notice: SECNODE_SEARCH_TRIGRAM=false: no trigram index; searches with a leading wildcard will be refused")
    return wanted


def _trigram_index(bind: sa.engine.Connection) -> None:
    """The GIN trigram index, when pg_trgm is installed or this role may install it (a trusted extension since
    PostgreSQL 13: the database's owner may); tried in a savepoint so a refusal leaves the migration going."""
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    if available is None:
        print("notice: pg_trgm is not available; searches with a leading wildcard will be refused")
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        bind.execute(
            sa.text(
                "CREATE INDEX ix_handle_value_index_value_trgm ON handle_value_index "
                "USING gin (value_key gin_trgm_ops)"
            )
        )
        savepoint.commit()
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        print(f"notice: no trigram index ({exc.orig}); searches with a leading wildcard will be refused")


def downgrade() -> None:
    op.drop_table("handle_value_index")
