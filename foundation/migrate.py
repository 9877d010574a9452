"""Run the Alembic migrations (the only way a schema is made)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def _run(step, database_url: str, revision: str) -> None:
    """Run an Alembic command; from inside a running event loop it runs in its own thread (the migration
    environment starts an event loop of its own)."""
    config = alembic_config(database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        step(config, revision)
        return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            step(config, revision)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(database_url: str, revision: str = "head") -> None:
    _run(command.upgrade, database_url, revision)


def downgrade(database_url: str, revision: str) -> None:
    _run(command.downgrade, database_url, revision)
