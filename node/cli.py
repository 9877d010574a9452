"""The ``secnode`` command: the assembly's own commands (migrate, init, serve, verify), and the contexts' commands
it includes (import and export, enterprise, prefix, sync, toplevel, audit)."""

from __future__ import annotations

import logging.config
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import typer

from foundation.cli import announce, command_database, console
from foundation.config import Settings, get_settings
from foundation.db import Database
from foundation.logs import logging_config
from foundation.migrate import upgrade
from foundation.worker_metrics import share_between_workers
from node import verify_command
from registry.audit import commands as audit_commands
from registry.bulk import commands as bulk_commands
from registry.enterprise_nodes import commands as enterprise_node_commands
from registry.enterprises import commands as enterprise_commands
from registry.gs1 import commands as gs1_commands
from registry.prefixes import commands as prefix_commands
from registry.trust import commands as trust_commands
from sync import commands as sync_commands
from sync.delivery import commands as webhook_commands
from sync.escrow import commands as escrow_commands
from sync.toplevel import commands as toplevel_commands

app = typer.Typer(help="secnode: industrial internet identifier resolution secondary node", no_args_is_help=True)
app.command("verify")(verify_command.verify)


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
    from registry.bootstrap import initialise  # deferred to keep --help fast: it loads FastAPI

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
    from registry.bootstrap import initialise  # deferred to keep --help fast: it loads FastAPI

    if (tls_cert is None) != (tls_key is None):
        console.print("[red]--tls-cert and --tls-key go together[/red]")
        raise typer.Exit(2)
    # What the workers read from their settings: the certificate's expiry is exported; the access log is theirs.
    if tls_cert is not None:
        os.environ["SECNODE_TLS_CERT"] = str(tls_cert)
    if access_log:
        os.environ["SECNODE_ACCESS_LOG"] = "true"

    settings = get_settings()
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    if workers > 1 and (settings.is_sqlite or not settings.redis_url):
        console.print(
            "[red]more than one worker needs PostgreSQL (SECNODE_DATABASE_URL) and Redis "
            "(SECNODE_REDIS_URL): the embedded default's cache lives in one process[/red]"
        )
        raise typer.Exit(2)
    _announce(initialise(settings), settings)
    share_between_workers(settings.metrics_dir)
    scheme = "https" if tls_cert else "http"
    url = f"{scheme}://{host}:{port}"
    announce(
        settings,
        f"secnode {settings.node_prefix} on {url}  (OpenAPI at /docs)",
        node_prefix=settings.node_prefix,
        url=url,
    )
    if server == "granian":
        from granian import Granian  # deferred: only the server chosen is loaded
        from granian.constants import Interfaces
        from granian.log import LogLevels

        Granian(
            "node.app:create_asgi",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            log_access=False,  # the node's own access log carries the request id
            log_dictconfig=logging_config(settings.log_format, settings.log_level),
            log_level=LogLevels(settings.log_level.lower()),
            respawn_failed_workers=True,
            ssl_cert=tls_cert,
            ssl_key=tls_key,
        ).serve()
        return
    if server != "uvicorn":
        console.print(f"[red]unknown server {server!r}: uvicorn or granian[/red]")
        raise typer.Exit(2)
    import uvicorn  # deferred: only the server chosen is loaded

    uvicorn.run(
        "node.app:create_asgi",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        log_config=logging_config(settings.log_format, settings.log_level),
        access_log=False,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )


@app.command()
def siteinfo(output: Path | None = typer.Option(None, help="write the JSON here instead of printing it")) -> None:
    """The node's site information (HS_SITE) as the siteinfo.json Handle.Net tools read: for registering the node's
    native protocol face with the top level. The address is SECNODE_NATIVE_SITE_ADDRESS (else SECNODE_NATIVE_HOST)."""
    import json

    from faces.handle_native.site import site_json
    from foundation.crypto.keys import load_signing_key
    from foundation.crypto.pubkeys import public_jwk

    settings = get_settings()
    try:
        public_key = public_jwk(load_signing_key(settings.node_key_file))
    except (OSError, ValueError):
        typer.echo(f"no signing key in {settings.node_key_file}: the site carries no key", err=True)
        public_key = None
    text = json.dumps(site_json(settings, public_key, settings.native_port), indent=2)
    if output is None:
        print(text)
    else:
        output.write_text(text + "\n")
        console.print(f"site information written to {output}")


@asynccontextmanager
async def _writing_database(settings: Settings) -> AsyncIterator[Database]:
    """The database for a long write from the command line. With Redis, commits go through the same cache
    coordination as the server's (ADR 0002), so no worker keeps answering with what a batch replaced; without
    it, the serving process learns of the changes from the journal."""
    # deferred to keep --help fast: they load Redis and FastAPI
    from foundation.redis_client import make_redis, replicas_to_wait
    from resolver.cache.coordinator import CacheCoordinator

    async with command_database(settings) as db:
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


# the contexts' commands; import, export and export-events sit at the top level, without a group of their own
app.add_typer(bulk_commands.make_app(_writing_database))
app.add_typer(enterprise_commands.app, name="enterprise")
enterprise_node_commands.register(prefix_commands.app)  # prefix home, unhome, homed
app.add_typer(prefix_commands.app, name="prefix")
app.add_typer(gs1_commands.app, name="gs1")
app.add_typer(sync_commands.app, name="sync")
app.add_typer(escrow_commands.app, name="escrow")
app.add_typer(toplevel_commands.app, name="toplevel")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(webhook_commands.app, name="webhook")
app.add_typer(trust_commands.make_app(_writing_database), name="trust")


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
