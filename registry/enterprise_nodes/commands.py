"""``secnode prefix home | unhome | homed``: the node administrator homes enterprise prefixes at enterprise nodes
(added to the ``prefix`` group by the assembly, ``node/cli.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from foundation.cli import console
from registry.cli_support import cli_actor, in_transaction

if TYPE_CHECKING:  # only for annotations: the module stays light for --help
    from sqlalchemy.ext.asyncio import AsyncSession

    from foundation.config import Settings


def prefix_home(
    prefix: str,
    site: Path | None = typer.Option(None, help="the enterprise node's siteinfo.json"),
    address: str | None = typer.Option(None, help="or its IPv4/IPv6 address ..."),
    port: int | None = typer.Option(None, help="... and Handle protocol port (TCP and UDP)"),
    http_port: int | None = typer.Option(None, help="... and optionally its HTTP interface's port"),
) -> None:
    """Home an enabled prefix at an enterprise node: clients are referred there."""
    from registry.enterprise_nodes import service  # deferred to keep --help fast: it loads the ORM models

    if (site is None) == (address is None) or (address is not None and port is None):
        console.print("[red]give --site siteinfo.json, or --address and --port[/red]")
        raise typer.Exit(2)
    request: dict[str, Any]
    if site is not None:
        try:
            request = {"site": json.loads(site.read_text(encoding="utf-8"))}
        except (OSError, ValueError) as exc:
            console.print(f"[red]cannot read {site}: {exc}[/red]")
            raise typer.Exit(2) from None
    else:
        request = {"address": address, "port": port, **({"httpPort": http_port} if http_port is not None else {})}

    async def work(session: AsyncSession, settings: Settings) -> Any:
        return await service.home(session, cli_actor(), prefix, service.site_from_request(request))

    out = in_transaction(work)
    servers = ", ".join(s["address"] for s in out["site"]["servers"])
    console.print(f"prefix {out['prefix']}: homed at {servers}")


def prefix_unhome(prefix: str) -> None:
    """Serve the prefix at this node again."""
    from registry.enterprise_nodes import service  # deferred to keep --help fast: it loads the ORM models

    async def work(session: AsyncSession, settings: Settings) -> None:
        await service.unhome(session, cli_actor(), prefix)

    in_transaction(work)
    console.print(f"prefix {prefix}: served here")


def _interfaces(server: dict[str, Any]) -> str:
    return " ".join(f"{i['protocol']}/{i['port']}" for i in server.get("interfaces", []))


def prefix_homed() -> None:
    """Prefixes homed at enterprise nodes, with their health."""
    from registry.enterprise_nodes import service  # deferred to keep --help fast: it loads the ORM models

    async def work(session: AsyncSession, settings: Settings) -> list[dict[str, Any]]:
        return await service.list_homed(session)

    table = Table(title="prefixes homed at enterprise nodes")
    for column in ("prefix", "server", "interfaces", "health", "checked", "failures", "last error"):
        table.add_column(column)
    for node in in_transaction(work):
        server = node["site"]["servers"][0]
        health = {True: "[green]up[/green]", False: "[red]down[/red]", None: "unchecked"}[node["healthy"]]
        table.add_row(
            node["prefix"],
            server["address"],
            _interfaces(server),
            health,
            node["lastCheckedAt"] or "",
            str(node["consecutiveFailures"]),
            node["lastError"] or "",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the commands to the ``prefix`` group."""
    app.command("home")(prefix_home)
    app.command("unhome")(prefix_unhome)
    app.command("homed")(prefix_homed)
