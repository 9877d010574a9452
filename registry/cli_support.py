"""What the registry's commands share: the node administrator at the command line, and the audit log entry of
every administrative command (as requests get theirs)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from foundation.cli import command_database, domain_errors_exit
from foundation.config import Settings, get_settings
from foundation.db import Database
from registry.kernel.actor import Actor

T = TypeVar("T")


def cli_actor() -> Actor:
    return Actor(name=f"cli:{getpass.getuser()}", is_node_admin=True)


def in_transaction(work: Callable[[Any, Settings], Awaitable[T]]) -> T:
    """Run ``work(session, settings)`` in one unit of work, then audit the command; domain errors become a clean
    exit."""
    settings = get_settings()
    action = _command_action()

    async def run() -> T:
        async with command_database(settings) as db:
            exit_code = 1
            try:
                async with db.unit_of_work() as session:
                    result = await work(session, settings)
                exit_code = 0
                return result
            finally:
                await audit_command(db, settings, action, exit_code)

    with domain_errors_exit():
        return asyncio.run(run())


def _command_action() -> str:
    """The command and its arguments for the audit log; options are left out, as they may carry secrets."""
    words = []
    for word in sys.argv[1:]:
        if word.startswith("-"):
            break
        words.append(word)
    return "CLI " + " ".join(words)


async def audit_command(db: Database, settings: Settings, action: str, exit_code: int) -> None:
    """Administrative commands go to the audit log as requests do (result: the exit code)."""
    from registry.audit import chain  # deferred to keep --help fast: it loads the ORM models

    async with db.unit_of_work() as session:
        await chain.append(
            session,
            actor=cli_actor().name,
            action=action,
            source="local",
            result=exit_code,
            algorithm=settings.audit_hash,
        )


def audit_finished(words: list[str], exit_code: int) -> None:
    """The audit entry of a command that opens its own database (``secnode import``, ``export``), once it has
    ended: ``words`` are the command and its positional arguments, which it names itself."""
    settings = get_settings()
    action = "CLI " + " ".join(words)

    async def run() -> None:
        async with command_database(settings) as db:
            await audit_command(db, settings, action, exit_code)

    asyncio.run(run())
