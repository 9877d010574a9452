"""``secnode prefix``: the node administrator allocates, approves, rejects, disables, enables and deletes enterprise
prefixes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from foundation.cli import console, print_rows
from registry.cli_support import cli_actor, in_transaction

if TYPE_CHECKING:  # only for annotations: the module stays light for --help
    from sqlalchemy.ext.asyncio import AsyncSession

    from foundation.config import Settings

app = typer.Typer(help="Enterprise prefixes (node administrator)", no_args_is_help=True)


@app.command("allocate")
def prefix_allocate(
    enterprise_id: int = typer.Option(...),
    code: str | None = typer.Option(None, help="default: next free"),
    admin_password: str = typer.Option(..., prompt=True, hide_input=True, help="secret of <prefix>/admin"),
    approve: bool = typer.Option(True, help="approve (and enable) at once"),
) -> None:
    """Allocate a prefix to an approved enterprise."""
    from registry.prefixes import service  # deferred to keep --help fast: it loads FastAPI

    async def work(session: AsyncSession, settings: Settings) -> Any:
        prefix = await service.apply(
            session, settings, cli_actor(), enterprise_id=enterprise_id, code=code, admin_password=admin_password
        )
        if approve:
            prefix = await service.audit(session, settings, cli_actor(), prefix.prefix, approve=True, reason=None)
        return service.prefix_out(prefix)

    out = in_transaction(work)
    console.print(f"prefix {out['prefix']}: {out['stateName']} (state {out['state']})")


@app.command("list")
def prefix_list(enterprise_id: int | None = typer.Option(None)) -> None:
    """List prefixes."""
    # deferred to keep --help fast: they load FastAPI and the ORM models
    from registry.prefixes import repository
    from registry.prefixes.service import prefix_out

    async def work(session: AsyncSession, settings: Settings) -> Any:
        return [prefix_out(p) for p in await repository.list_all(session, enterprise_id=enterprise_id, limit=10_000)]

    print_rows("prefixes", in_transaction(work), ["prefix", "enterpriseId", "state", "stateName"])


def _action(prefix: str, action: str, reason: str | None = None) -> None:
    from registry.prefixes import service  # deferred to keep --help fast: it loads FastAPI

    async def work(session: AsyncSession, settings: Settings) -> Any:
        actor = cli_actor()
        if action in ("approve", "reject"):
            result = await service.audit(session, settings, actor, prefix, approve=action == "approve", reason=reason)
        elif action == "delete":
            result = await service.request_delete(session, actor, prefix)
        else:
            result = await service.set_enabled(session, settings, actor, prefix, action == "enable")
        return service.prefix_out(result)

    out = in_transaction(work)
    console.print(f"prefix {out['prefix']}: {out['stateName']} (state {out['state']})")


@app.command("approve")
def prefix_approve(prefix: str) -> None:
    """Approve an application (enables it when no upstream is configured)."""
    _action(prefix, "approve")


@app.command("reject")
def prefix_reject(prefix: str, reason: str = typer.Option(...)) -> None:
    """Reject an application."""
    _action(prefix, "reject", reason)


@app.command("disable")
def prefix_disable(prefix: str) -> None:
    """Disable: writes under the prefix are refused."""
    _action(prefix, "disable")


@app.command("enable")
def prefix_enable(prefix: str) -> None:
    """Enable a disabled prefix."""
    _action(prefix, "enable")


@app.command("delete")
def prefix_delete(prefix: str) -> None:
    """Delete an empty prefix."""
    _action(prefix, "delete")
