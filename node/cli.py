"""The ``secnode`` command: serve, migrate, init, and node-administrator commands for enterprises and prefixes."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from foundation.config import Settings, get_settings
from foundation.db import Database
from foundation.migrate import upgrade
from node import verify_command
from registry.bulk import commands as bulk_commands

app = typer.Typer(help="secnode: industrial internet identifier resolution secondary node", no_args_is_help=True)
enterprise_app = typer.Typer(help="Enterprises (node administrator)", no_args_is_help=True)
prefix_app = typer.Typer(help="Enterprise prefixes (node administrator)", no_args_is_help=True)
app.add_typer(enterprise_app, name="enterprise")
app.add_typer(prefix_app, name="prefix")
sync_app = typer.Typer(help="Upward reporting to the top-level node", no_args_is_help=True)
toplevel_app = typer.Typer(help="The reference top-level node (tests, demos, rehearsals)", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log", no_args_is_help=True)
app.add_typer(sync_app, name="sync")
app.add_typer(toplevel_app, name="toplevel")
app.add_typer(audit_app, name="audit")
app.command("verify")(verify_command.verify)
console = Console()
T = TypeVar("T")


def _cli_actor():
    from registry.kernel.actor import Actor

    return Actor(name=f"cli:{getpass.getuser()}", is_node_admin=True)


def _in_transaction(work: Callable[[Any, Settings], Awaitable[T]]) -> T:
    """Run ``work(session, settings)`` in one unit of work; domain errors become a clean exit."""
    from foundation.errors import DomainError

    settings = get_settings()
    action = _command_action()

    async def run() -> T:
        db = Database.from_settings(settings, with_replica=False)
        exit_code = 1
        try:
            async with db.unit_of_work() as session:
                result = await work(session, settings)
            exit_code = 0
            return result
        finally:
            await _audit_command(db, settings, action, exit_code)
            await db.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        console.print(f"[red]error[/red] {exc.name}: {exc.message}")
        raise typer.Exit(1) from None


def _command_action() -> str:
    """The command and its arguments for the audit log; options are left out, as they may carry secrets."""
    words = []
    for word in sys.argv[1:]:
        if word.startswith("-"):
            break
        words.append(word)
    return "CLI " + " ".join(words)


async def _audit_command(db: Database, settings: Settings, action: str, exit_code: int) -> None:
    """Administrative commands go to the audit log as requests do (result: the exit code)."""
    from registry.audit import chain

    async with db.unit_of_work() as session:
        await chain.append(
            session,
            actor=_cli_actor().name,
            action=action,
            source="local",
            result=exit_code,
            algorithm=settings.audit_hash,
        )


def _audit_finished(words: list[str], exit_code: int) -> None:
    """The audit entry of a command that opens its own database (``secnode import``, ``export``), once it has
    ended: ``words`` are the command and its positional arguments, which it names itself."""
    settings = get_settings()
    action = "CLI " + " ".join(words)

    async def run() -> None:
        db = Database.from_settings(settings, with_replica=False)
        try:
            await _audit_command(db, settings, action, exit_code)
        finally:
            await db.dispose()

    asyncio.run(run())


def initialise(settings: Settings) -> str | None:
    """Migrate the database, create the node's signing key, the node administrator and seed templates
    (idempotent)."""
    from foundation.crypto.keys import ensure_signing_key
    from foundation.errors import DomainError
    from registry.bootstrap import ensure_node

    upgrade(settings.database_url)
    created, key = ensure_signing_key(settings.node_key_file)
    if created:
        console.print(f"node signing key {key} written to {settings.node_key_file}")

    async def run() -> str | None:
        db = Database.from_settings(settings, with_replica=False)
        try:
            async with db.unit_of_work() as session:
                return await ensure_node(session, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:  # e.g. a weak SECNODE_BOOTSTRAP_ADMIN_PASSWORD: nothing was created
        console.print(f"[red]error[/red] {exc.name}: {exc.message}")
        raise typer.Exit(1) from None


def _announce(password: str | None, settings: Settings) -> None:
    if password:
        console.print(
            f"[bold yellow]Node administrator created.[/bold yellow] Business API user [bold]admin[/bold], "
            f"Handle identity [bold]300:0.NA/{settings.node_prefix}[/bold], password: [bold]{password}[/bold]"
            "\nIt is shown only this once; set SECNODE_BOOTSTRAP_ADMIN_PASSWORD to choose it instead."
        )


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest migration."""
    settings = get_settings()
    upgrade(settings.database_url)
    console.print(f"schema up to date ({settings.database_url.split('@')[-1]})")


@app.command()
def init() -> None:
    """Migrate, then create the node's NA handle, its administrator and the seed templates."""
    settings = get_settings()
    _announce(initialise(settings), settings)
    console.print(f"node {settings.node_prefix} ready")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, help="worker processes (more than one needs PostgreSQL and Redis)"),
    access_log: bool = typer.Option(False, help="log every request (costs throughput on the hot path)"),
    server: str = typer.Option("granian", help="HTTP server: granian (default, faster here) or uvicorn"),
    tls_cert: Path | None = typer.Option(None, help="serve HTTPS with this certificate chain (PEM)"),
    tls_key: Path | None = typer.Option(None, help="the certificate's private key (PEM)"),
) -> None:
    """Migrate and initialise if needed, then serve HTTP (HTTPS with --tls-cert and --tls-key)."""
    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        console.print("[red]--tls-cert and --tls-key go together[/red]")
        raise typer.Exit(2)

    settings = get_settings()
    if workers > 1 and (settings.is_sqlite or not settings.redis_url):
        console.print(
            "[red]more than one worker needs PostgreSQL (SECNODE_DATABASE_URL) and Redis "
            "(SECNODE_REDIS_URL): the embedded default's cache lives in one process[/red]"
        )
        raise typer.Exit(2)
    _announce(initialise(settings), settings)
    scheme = "https" if tls_cert else "http"
    console.print(f"secnode {settings.node_prefix} on {scheme}://{host}:{port}  (OpenAPI at /docs)")
    if server == "granian":
        from granian import Granian
        from granian.constants import Interfaces
        from granian.log import LogLevels

        Granian(
            "node.app:create_asgi",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            log_access=access_log,
            log_level=LogLevels(settings.log_level.lower()),
            respawn_failed_workers=True,
            ssl_cert=tls_cert,
            ssl_key=tls_key,
        ).serve()
        return
    if server != "uvicorn":
        console.print(f"[red]unknown server {server!r}: uvicorn or granian[/red]")
        raise typer.Exit(2)
    uvicorn.run(
        "node.app:create_asgi",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=access_log,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )


# ---- enterprises --------------------------------------------------------------------------------------------


def _print_rows(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


@enterprise_app.command("add")
def enterprise_add(
    name: str = typer.Option(...),
    credit_code: str = typer.Option(..., help="unified social credit code"),
    industry: str = typer.Option(..., help="steel | automotive | packaging"),
    industry_code: str = typer.Option(..., help="GB/T 4754 code, e.g. C3120"),
    contact_name: str = typer.Option(...),
    contact_phone: str = typer.Option(...),
    contact_email: str = typer.Option(...),
    username: str = typer.Option(...),
    password: str = typer.Option(..., prompt=True, hide_input=True),
    approve: bool = typer.Option(True, help="approve at once"),
) -> None:
    """Register an enterprise (and its login account), approved by default."""
    from foundation.http.requests import parse_model
    from registry.enterprises import service
    from registry.enterprises.schemas import EnterpriseApplication

    async def work(session, settings):
        data = parse_model(
            EnterpriseApplication,
            {
                "name": name,
                "creditCode": credit_code,
                "industry": industry,
                "industryCode": industry_code,
                "contactName": contact_name,
                "contactPhone": contact_phone,
                "contactEmail": contact_email,
                "username": username,
                "password": password,
            },
        )
        enterprise = await service.apply(session, data, _cli_actor().name)
        if approve:
            enterprise = await service.audit(session, _cli_actor(), enterprise.id, True, None)
        return service.enterprise_out(enterprise)

    out = _in_transaction(work)
    console.print(f"enterprise {out['id']} {out['name']}: {out['state']}")


@enterprise_app.command("list")
def enterprise_list(state: str | None = typer.Option(None)) -> None:
    """List enterprises."""
    from registry.enterprises import repository
    from registry.enterprises.service import enterprise_out

    async def work(session, settings):
        return [enterprise_out(e) for e in await repository.list_all(session, state=state, limit=10_000)]

    _print_rows("enterprises", _in_transaction(work), ["id", "name", "creditCode", "industry", "state"])


def _enterprise_decision(enterprise_id: int, action: str, reason: str | None) -> None:
    from registry.enterprises import service

    async def work(session, settings):
        if action in ("approve", "reject"):
            enterprise = await service.audit(session, _cli_actor(), enterprise_id, action == "approve", reason)
        else:
            enterprise = await service.set_disabled(session, _cli_actor(), enterprise_id, action == "disable", reason)
        return service.enterprise_out(enterprise)

    out = _in_transaction(work)
    console.print(f"enterprise {out['id']}: {out['state']}")


@enterprise_app.command("approve")
def enterprise_approve(enterprise_id: int) -> None:
    """Approve an application."""
    _enterprise_decision(enterprise_id, "approve", None)


@enterprise_app.command("reject")
def enterprise_reject(enterprise_id: int, reason: str = typer.Option(...)) -> None:
    """Reject an application."""
    _enterprise_decision(enterprise_id, "reject", reason)


@enterprise_app.command("disable")
def enterprise_disable(enterprise_id: int, reason: str | None = typer.Option(None)) -> None:
    """Suspend an enterprise: writes under its prefixes are refused."""
    _enterprise_decision(enterprise_id, "disable", reason)


@enterprise_app.command("enable")
def enterprise_enable(enterprise_id: int) -> None:
    """Lift a suspension."""
    _enterprise_decision(enterprise_id, "enable", None)


# ---- prefixes -----------------------------------------------------------------------------------------------


@prefix_app.command("allocate")
def prefix_allocate(
    enterprise_id: int = typer.Option(...),
    code: str | None = typer.Option(None, help="default: next free"),
    admin_password: str = typer.Option(..., prompt=True, hide_input=True, help="secret of <prefix>/admin"),
    approve: bool = typer.Option(True, help="approve (and enable) at once"),
) -> None:
    """Allocate a prefix to an approved enterprise."""
    from registry.prefixes import service

    async def work(session, settings):
        prefix = await service.apply(
            session, settings, _cli_actor(), enterprise_id=enterprise_id, code=code, admin_password=admin_password
        )
        if approve:
            prefix = await service.audit(session, settings, _cli_actor(), prefix.prefix, approve=True, reason=None)
        return service.prefix_out(prefix)

    out = _in_transaction(work)
    console.print(f"prefix {out['prefix']}: {out['stateName']} (state {out['state']})")


@prefix_app.command("list")
def prefix_list(enterprise_id: int | None = typer.Option(None)) -> None:
    """List prefixes."""
    from registry.prefixes import repository
    from registry.prefixes.service import prefix_out

    async def work(session, settings):
        return [prefix_out(p) for p in await repository.list_all(session, enterprise_id=enterprise_id, limit=10_000)]

    _print_rows("prefixes", _in_transaction(work), ["prefix", "enterpriseId", "state", "stateName"])


def _prefix_action(prefix: str, action: str, reason: str | None = None) -> None:
    from registry.prefixes import service

    async def work(session, settings):
        actor = _cli_actor()
        if action in ("approve", "reject"):
            result = await service.audit(session, settings, actor, prefix, approve=action == "approve", reason=reason)
        elif action == "delete":
            result = await service.request_delete(session, actor, prefix)
        else:
            result = await service.set_enabled(session, settings, actor, prefix, action == "enable")
        return service.prefix_out(result)

    out = _in_transaction(work)
    console.print(f"prefix {out['prefix']}: {out['stateName']} (state {out['state']})")


@prefix_app.command("approve")
def prefix_approve(prefix: str) -> None:
    """Approve an application (enables it when no upstream is configured)."""
    _prefix_action(prefix, "approve")


@prefix_app.command("reject")
def prefix_reject(prefix: str, reason: str = typer.Option(...)) -> None:
    """Reject an application."""
    _prefix_action(prefix, "reject", reason)


@prefix_app.command("disable")
def prefix_disable(prefix: str) -> None:
    """Disable: writes under the prefix are refused."""
    _prefix_action(prefix, "disable")


@prefix_app.command("enable")
def prefix_enable(prefix: str) -> None:
    """Enable a disabled prefix."""
    _prefix_action(prefix, "enable")


@prefix_app.command("delete")
def prefix_delete(prefix: str) -> None:
    """Delete an empty prefix."""
    _prefix_action(prefix, "delete")


# ---- bulk import and export --------------------------------------------------------------------------------


@asynccontextmanager
async def _writing_database(settings: Settings) -> AsyncIterator[Database]:
    """The database for a long write from the command line. With Redis, commits go through the same cache
    coordination as the server's (ADR 0002), so no worker keeps answering with what a batch replaced; without
    it, the serving process learns of the changes from the journal."""
    from foundation.redis_client import make_redis, replicas_to_wait
    from resolver.cache.coordinator import CacheCoordinator

    db = Database.from_settings(settings, with_replica=False)
    redis = make_redis(settings)
    coordinator = (
        CacheCoordinator(
            db,
            redis,
            ttl_seconds=settings.cache_ttl_seconds,
            serve_locally=False,
            wait_replicas=replicas_to_wait(settings),
            wait_timeout_ms=settings.redis_wait_timeout_ms,
        )
        if redis is not None
        else None
    )
    try:
        if coordinator is not None:
            await coordinator.start()
            db.hooks = coordinator
        yield db
    finally:
        if coordinator is not None:
            await coordinator.stop()
        if redis is not None:
            await redis.aclose()
        await db.dispose()


bulk_commands.register(app, _writing_database, _audit_finished)


# ---- upward sync -------------------------------------------------------------------------------------------


def _reporter(settings: Settings, db: Database):
    from foundation.crypto.keys import load_signing_key
    from sync.reporter import Reporter
    from sync.upstream import HttpUpstream

    if not settings.upstream_url:
        console.print("[red]SECNODE_UPSTREAM_URL is not set: this node is standalone[/red]")
        raise typer.Exit(2)
    upstream = HttpUpstream(settings.upstream_url, settings.node_prefix, load_signing_key(settings.node_key_file))
    return Reporter(db, settings, upstream), upstream


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain from its first entry: name every edited entry and every gap. Prints the
    head (last number and hash): keep it elsewhere, to notice newest entries deleted later."""
    from registry.audit import chain

    settings = get_settings()

    async def run() -> chain.Verification:
        db = Database.from_settings(settings, with_replica=False)
        try:
            async with db.read_session() as session:
                return await chain.verify(session)
        finally:
            await db.dispose()

    report = asyncio.run(run())
    for problem in report.problems:
        console.print(f"[red]tampered[/red] {problem}")
    console.print(
        f"{report.entries} entries; head: entry {report.head_seq}, hash {report.head_hash} ({report.head_algorithm})"
    )
    if report.problems:
        raise typer.Exit(1)
    console.print("[green]the chain is intact[/green]")


@sync_app.command("run")
def sync_run(once: bool = typer.Option(False, help="ship what is committed now, then stop")) -> None:
    """Register with the top-level node and ship the journal (continuously, or once)."""
    settings = get_settings()
    initialise(settings)

    from sync.background import ReporterBusy, reporter_lock

    async def run() -> None:
        db = Database.from_settings(settings, with_replica=False)
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
            await db.dispose()

    try:
        asyncio.run(run())
    except ReporterBusy as exc:
        console.print(f"[red]{exc}; nothing was sent[/red]")
        raise typer.Exit(1) from None
    if once:
        sync_status()


@sync_app.command("snapshot")
def sync_snapshot(
    output: str = typer.Option("secnode-snapshot.jsonl", help="file to write"),
    send: bool = typer.Option(False, help="also send it to the top-level node"),
) -> None:
    """Write a signed snapshot of every record (for emergency takeover), and optionally send it upward."""
    from foundation.crypto.keys import load_signing_key
    from sync.snapshot import write_snapshot

    settings = get_settings()

    async def run() -> None:
        db = Database.from_settings(settings, with_replica=False)
        try:
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
        finally:
            await db.dispose()

    asyncio.run(run())


@sync_app.command("status")
def sync_status() -> None:
    """Journal cursor, lag and last error of the reporter."""
    settings = get_settings()

    async def run():
        db = Database.from_settings(settings, with_replica=False)
        try:
            from registry.journal import repository as journal
            from sync.reporter import CURSOR

            async with db.unit_of_work() as session:
                cursor = await journal.cursor_of(session, CURSOR)
                return cursor.cursor, await journal.last_seq(session), cursor.last_error, cursor.last_success_at
        finally:
            await db.dispose()

    cursor, last, error, success = asyncio.run(run())
    console.print(
        f"cursor {cursor}\njournal {last}\nlag {max(0, last - cursor)}\nlast success {success or '-'}\n"
        f"last error {error or '-'}",
        soft_wrap=True,
    )


@toplevel_app.command("serve")
def toplevel_serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8500)) -> None:
    """Serve the reference top-level node (its own storage: SECNODE_TOPLEVEL_DATABASE_URL)."""
    import uvicorn

    from sync.toplevel.app import create_toplevel_app

    settings = get_settings()
    uvicorn.run(
        create_toplevel_app(settings.toplevel_database_url, auto_approve=settings.toplevel_auto_approve),
        host=host,
        port=port,
        log_level="warning",
    )


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
