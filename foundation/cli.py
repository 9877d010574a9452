"""Plumbing the ``secnode`` commands of every context share: the console, tables of rows, the database a command
opens, and domain errors as a clean exit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from foundation.config import Settings
from foundation.db import Database
from foundation.errors import DomainError

console = Console()


def announce(settings: Settings, message: str, **fields: Any) -> None:
    """A line for whoever runs the node: on the console, or in the log when the node logs JSON (a log pipeline
    reads the server's output, and every line of it is then a JSON object)."""
    if settings.log_format == "json":
        logging.getLogger("secnode").info(message, extra=fields)
    else:
        console.print(message)


def print_rows(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


def print_domain_error(exc: DomainError, to: Console = console) -> None:
    to.print(f"[red]error[/red] {exc.name}: {escape(exc.message)}")


@contextmanager
def domain_errors_exit() -> Iterator[None]:
    """A domain error ends the command with its name and message, and exit code 1."""
    try:
        yield
    except DomainError as exc:
        print_domain_error(exc)
        raise typer.Exit(1) from None


@asynccontextmanager
async def command_database(settings: Settings) -> AsyncIterator[Database]:
    """The primary database, for one command; disposed of when it ends."""
    db = Database.from_settings(settings, with_replica=False)
    try:
        yield db
    finally:
        await db.dispose()
