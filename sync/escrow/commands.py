"""``secnode escrow``: make a deposit now, send what is owed, check deposits, rebuild a node from them, show the
state of the chain (docs/escrow.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from foundation.cli import command_database, console
from foundation.config import Settings, get_settings

if TYPE_CHECKING:  # only for annotations: the module stays light for --help
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

app = typer.Typer(help="Data escrow deposits (RFC 8909 format)", no_args_is_help=True)


def _public_key(settings: Settings, path: Path | None) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from foundation.crypto.keys import load_signing_key

    if path is None:
        return load_signing_key(settings.node_key_file).public_key()
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        console.print(f"[red]{path} does not hold an Ed25519 public key[/red]")
        raise typer.Exit(2)
    return key


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


@app.command("deposit")
def escrow_deposit(
    full: bool = typer.Option(False, "--full", help="a full deposit of every object"),
    incremental: bool = typer.Option(False, "--incremental", help="the changes since the last deposit"),
    out: Path | None = typer.Option(None, help="directory for the files (default SECNODE_ESCROW_DIRECTORY)"),
    send: bool = typer.Option(False, help="then send every deposit a destination has not received"),
) -> None:
    """Write a signed deposit now (DEPOSIT.xml and DEPOSIT.sig)."""
    # deferred to keep --help fast: they load the ORM models
    from foundation.crypto.keys import load_signing_key
    from registry.cli_support import audit_command, cli_actor
    from sync.background import ReporterBusy, node_role
    from sync.errors import SyncError
    from sync.escrow.deposit import FULL, INCR
    from sync.escrow.schedule import ESCROW_LOCK_ID, deposit_and_audit
    from sync.escrow.transfer import send_pending

    if full == incremental:
        console.print("[red]say --full or --incremental[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    key = load_signing_key(settings.node_key_file)
    kind = FULL if full else INCR

    async def run() -> None:
        async with command_database(settings) as db:
            try:
                async with node_role(db, settings, ESCROW_LOCK_ID, wait=True, busy="", poll_seconds=1.0):
                    written = await deposit_and_audit(
                        db, settings, key, kind, str(out or settings.escrow_directory), actor=cli_actor().name
                    )
                    info = written.info
                    counts = ", ".join(f"{n} {uri.rpartition(':')[2]}" for uri, n in info.counts.items())
                    console.print(
                        f"{info.kind} deposit {info.deposit_id} (journal {info.from_seq}..{info.to_seq}; {counts})\n"
                        f"{written.xml_path}\n{written.sig_path}",
                        soft_wrap=True,
                    )
                    if send:
                        sent = await send_pending(db, settings, key)
                        console.print(", ".join(f"{n} sent to {d}" for d, n in sent.items()) or "no destination")
            except (SyncError, ReporterBusy) as exc:
                await audit_command(db, settings, f"CLI escrow deposit {kind}", 1)
                raise _fail(exc) from None

    asyncio.run(run())


@app.command("verify")
def escrow_verify(
    path: Path = typer.Argument(..., help="a deposit file, or a directory of deposits (checked as one chain)"),
    public_key: Path | None = typer.Option(None, help="the node's public key, PEM (default: this node's key)"),
) -> None:
    """Check deposits: signatures, structure, counts, and (for a directory) that they chain without a gap."""
    from sync.errors import SyncError
    from sync.escrow.restore import chain, check_file

    key = _public_key(get_settings(), public_key)
    try:
        if path.is_dir():
            for checked in chain(path, key):
                info = checked.info
                console.print(
                    f"ok {info.kind} {info.deposit_id} journal {info.from_seq}..{info.to_seq} {checked.path.name}"
                )
        else:
            info = check_file(path, key)
            console.print(f"ok {info.kind} {info.deposit_id} journal {info.from_seq}..{info.to_seq} {path.name}")
    except SyncError as exc:
        raise _fail(exc) from None


@app.command("restore")
def escrow_restore(
    directory: Path = typer.Argument(..., help="a full deposit and the incremental ones after it"),
    public_key: Path | None = typer.Option(None, help="the node's public key, PEM (default: this node's key)"),
) -> None:
    """Rebuild an empty node's database from deposits: migrate, check the whole chain, then apply it in order."""
    from foundation.migrate import upgrade
    from registry.cli_support import audit_command, cli_actor
    from sync.errors import SyncError
    from sync.escrow.restore import chain, restore

    settings = get_settings()
    key = _public_key(settings, public_key)
    upgrade(settings.database_url)

    async def run() -> None:
        async with command_database(settings) as db:
            try:
                restored = await restore(db, chain(directory, key))
            except SyncError as exc:
                await audit_command(db, settings, f"CLI escrow restore {directory}", 1)
                raise _fail(exc) from None
            await audit_command(db, settings, f"CLI escrow restore {directory} by {cli_actor().name}", 0)
            console.print(
                f"restored {', '.join(restored.deposits)}: {restored.enterprises} enterprises, {restored.prefixes} "
                f"prefixes, {restored.templates} templates, {restored.identifiers} identifiers, {restored.deleted} "
                f"deleted; journal continues after "
                f"{restored.journal_seq}",
                soft_wrap=True,
            )

    asyncio.run(run())


@app.command("status")
def escrow_status() -> None:
    """The deposits made, newest first, and what each destination received."""
    from sqlalchemy import select

    from registry.journal.models import EscrowDeposit

    settings = get_settings()

    async def run() -> None:
        async with command_database(settings) as db, db.unit_of_work() as session:
            rows = (
                await session.execute(select(EscrowDeposit).order_by(EscrowDeposit.created_at.desc()).limit(20))
            ).scalars()
            for r in rows:
                states = " ".join(f"{d}={s.get('state')}" for d, s in r.destinations.items()) or "-"
                console.print(
                    f"{r.deposit_id} {r.kind} journal {r.from_seq}..{r.to_seq} resend {r.resend} {states}",
                    soft_wrap=True,
                )

    asyncio.run(run())
