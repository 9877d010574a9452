"""``secnode audit``: check the tamper-evident audit log."""

from __future__ import annotations

import asyncio

import typer

from foundation.cli import command_database, console
from foundation.config import get_settings

app = typer.Typer(help="The tamper-evident audit log", no_args_is_help=True)


@app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain from its first entry: name every edited entry and every gap. Prints the
    head (last number and hash): keep it elsewhere, to notice newest entries deleted later."""
    from registry.audit import chain  # deferred to keep --help fast: it loads the ORM models

    settings = get_settings()

    async def run() -> chain.Verification:
        async with command_database(settings) as db, db.read_session() as session:
            return await chain.verify(session)

    report = asyncio.run(run())
    for problem in report.problems:
        console.print(f"[red]tampered[/red] {problem}")
    console.print(
        f"{report.entries} entries; head: entry {report.head_seq}, hash {report.head_hash} ({report.head_algorithm})"
    )
    if report.problems:
        raise typer.Exit(1)
    console.print("[green]the chain is intact[/green]")
