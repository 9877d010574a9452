"""``secnode sync``: register with the top-level node, ship the journal, send a snapshot, show the reporter's state."""

from __future__ import annotations

import asyncio

import typer

from foundation.cli import command_database, console
from foundation.config import Settings, get_settings
from foundation.crypto.keys import load_signing_key
from foundation.db import Database
from sync.upstream import HttpUpstream

app = typer.Typer(help="Upward reporting to the top-level node", no_args_is_help=True)


def _reporter(settings: Settings, db: Database):
    from sync.reporter import Reporter  # deferred to keep --help fast: it loads FastAPI

    if not settings.upstream_url:
        console.print("[red]SECNODE_UPSTREAM_URL is not set: this node is standalone[/red]")
        raise typer.Exit(2)
    upstream = HttpUpstream(settings.upstream_url, settings.node_prefix, load_signing_key(settings.node_key_file))
    return Reporter(db, settings, upstream), upstream


@app.command("run")
def sync_run(once: bool = typer.Option(False, help="ship what is committed now, then stop")) -> None:
    """Register with the top-level node and ship the journal (continuously, or once)."""
    # deferred to keep --help fast: they load FastAPI
    from registry.bootstrap import initialise
    from sync.background import ReporterBusy, reporter_lock

    settings = get_settings()
    initialise(settings)

    async def run() -> None:
        async with command_database(settings) as db:
            reporter, upstream = _reporter(settings, db)
            try:
                # one reporter per node: --once refuses while another holds the role, a continuous run waits for it
                async with reporter_lock(db, settings, wait=not once):
                    await reporter.register(settings.public_url)
                    if once:
                        await reporter.drain()
                        await reporter.report_health()
                    else:
                        await reporter.run_forever()
            finally:
                await upstream.aclose()

    try:
        asyncio.run(run())
    except ReporterBusy as exc:
        console.print(f"[red]{exc}; nothing was sent[/red]")
        raise typer.Exit(1) from None
    if once:
        sync_status()


@app.command("snapshot")
def sync_snapshot(
    output: str = typer.Option("secnode-snapshot.jsonl", help="file to write"),
    send: bool = typer.Option(False, help="also send it to the top-level node"),
) -> None:
    """Write a signed snapshot of every record (for emergency takeover), and optionally send it upward."""
    from sync.snapshot import write_snapshot  # deferred to keep --help fast: it loads FastAPI

    settings = get_settings()

    async def run() -> None:
        async with command_database(settings) as db:
            data = await write_snapshot(db, settings.node_prefix, load_signing_key(settings.node_key_file))
            with open(output, "wb") as handle:
                handle.write(data)
            records = data.count(b"\n") - 2  # every line but the header and the trailer
            console.print(f"snapshot of {records} records written to {output}")
            if send:
                _, upstream = _reporter(settings, db)
                try:
                    answer = await upstream.send_snapshot(data)
                    console.print(f"the top-level node imported {answer['records']} records")
                finally:
                    await upstream.aclose()

    asyncio.run(run())


@app.command("status")
def sync_status() -> None:
    """Journal cursor, lag and last error of the reporter."""
    # deferred to keep --help fast: they load FastAPI and the ORM models
    from registry.journal import repository as journal
    from sync.reporter import CURSOR

    settings = get_settings()

    async def run():
        async with command_database(settings) as db, db.unit_of_work() as session:
            cursor = await journal.cursor_of(session, CURSOR)
            return cursor.cursor, await journal.last_seq(session), cursor.last_error, cursor.last_success_at

    cursor, last, error, success = asyncio.run(run())
    console.print(
        f"cursor {cursor}\njournal {last}\nlag {max(0, last - cursor)}\nlast success {success or '-'}\n"
        f"last error {error or '-'}",
        soft_wrap=True,
    )
