"""``secnode trust``: the node's certificate from the top level, and certificates for enterprise prefixes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import typer

from foundation.cli import console, domain_errors_exit
from registry.cli_support import audit_command, cli_actor, in_transaction

if TYPE_CHECKING:  # only for annotations: the module stays light for --help
    from sqlalchemy.ext.asyncio import AsyncSession

    from foundation.config import Settings

OpenDatabase = Callable[["Settings"], AbstractAsyncContextManager[Any]]


def make_app(open_database: OpenDatabase) -> typer.Typer:
    """The commands; ``open_database`` gives the database as the node's long writes use it (with Redis, commits go
    through the cache coordination, so no worker keeps answering the record without its new certificate)."""
    app = typer.Typer(help="Handle trust: HS_CERT chains (ADR 0015)", no_args_is_help=True)
    app.command("certify")(_certify(open_database))
    app.command("status")(trust_status)
    return app


def _certify(open_database: OpenDatabase) -> Callable[..., None]:
    def trust_certify(
        prefix: str = typer.Argument(..., help="the enterprise prefix, e.g. 88.118.1042"),
        index: int | None = typer.Option(None, help="the HS_PUBKEY of 0.NA/<prefix> to certify (default: the first)"),
    ) -> None:
        """Issue an enterprise prefix's HS_PUBKEY an HS_CERT (index 400 of 0.NA/<prefix>), as the node administrator."""
        # deferred to keep --help fast: they load FastAPI and the crypto
        from foundation.config import get_settings
        from foundation.crypto.trust_keys import load_trust_key
        from registry.trust import service
        from registry.trust.errors import NoTrustKey

        settings = get_settings()

        async def run() -> tuple[int, str]:
            async with open_database(settings) as db:
                exit_code = 1
                try:
                    try:
                        key = load_trust_key(settings.trust_key_file)
                    except (OSError, ValueError):
                        raise NoTrustKey(settings.trust_key_file) from None
                    async with db.unit_of_work() as session:
                        result = await service.certify_prefix(session, settings, cli_actor(), prefix, key, index)
                    exit_code = 0
                    return result
                finally:
                    await audit_command(db, settings, f"CLI trust certify {prefix}", exit_code)

        with domain_errors_exit():
            at, certificate = asyncio.run(run())
        console.print(f"0.NA/{prefix} index {at}: HS_CERT issued\n{certificate}", soft_wrap=True)

    return trust_certify


def trust_status() -> None:
    """The node's certificate: subject, issuer, algorithm, expiry (none before the node registered upward)."""
    # deferred to keep --help fast: they load FastAPI and the crypto
    from foundation.crypto import handle_trust as trust
    from registry.kernel import records
    from registry.kernel.syntax import canonical, na_handle

    async def work(session: AsyncSession, settings: Settings) -> Any:
        record = await records.get(session, canonical(na_handle(settings.node_prefix)))
        return [v for v in (record.record_values if record else []) if v["type"] == trust.CERT_TYPE]

    certificates = in_transaction(work)
    if not certificates:
        console.print("[yellow]not certified: the node has no HS_CERT yet (it is issued when it registers)[/yellow]")
        raise typer.Exit(1)
    for value in certificates:
        jws = trust.parse_jws(value["data"]["value"])
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(jws.claims.get("exp", 0)))
        console.print(f"index {value['index']}: {jws.subject} issued by {jws.issuer} ({jws.alg}), valid until {expiry}")
