"""``secnode gs1``: GS1 company prefix declarations at the command line (node administrator)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from foundation.cli import console, print_rows
from registry.cli_support import cli_actor, in_transaction

if TYPE_CHECKING:  # only for annotations: the module stays light for --help
    from sqlalchemy.ext.asyncio import AsyncSession

    from foundation.config import Settings

app = typer.Typer(help="GS1 company prefixes declared by enterprises (node administrator)", no_args_is_help=True)


@app.command("declare")
def declare(
    company_prefix: str = typer.Argument(..., help="4 to 12 digits"),
    enterprise_id: int = typer.Option(...),
    evidence: str | None = typer.Option(None, help="what shows GS1 licensed it"),
    approve: bool = typer.Option(False, help="approve at once"),
) -> None:
    """Declare a GS1 company prefix for an enterprise."""
    from registry.gs1 import service  # deferred to keep --help fast

    async def work(session: AsyncSession, settings: Settings) -> Any:
        row = await service.declare(
            session, cli_actor(), company_prefix, enterprise_id=enterprise_id, evidence=evidence
        )
        if approve:
            row = await service.audit(session, cli_actor(), company_prefix, approve=True, reason=None)
        return service.declaration_out(row)

    out = in_transaction(work)
    console.print(f"GS1 company prefix {out['companyPrefix']}: {out['stateName']} (state {out['state']})")


@app.command("list")
def list_declarations(enterprise_id: int | None = typer.Option(None)) -> None:
    """List GS1 company prefix declarations."""
    from registry.gs1 import repository, service  # deferred to keep --help fast

    async def work(session: AsyncSession, settings: Settings) -> Any:
        rows = await repository.list_all(session, enterprise_id=enterprise_id, state=None, limit=100_000, offset=0)
        return [service.declaration_out(r) for r in rows]

    print_rows("GS1 company prefixes", in_transaction(work), ["companyPrefix", "enterpriseId", "state", "stateName"])


def _decide(company_prefix: str, action: str, reason: str | None) -> None:
    from registry.gs1 import service  # deferred to keep --help fast

    async def work(session: AsyncSession, settings: Settings) -> Any:
        if action == "revoke":
            row = await service.revoke(session, cli_actor(), company_prefix, reason)
        else:
            row = await service.audit(session, cli_actor(), company_prefix, approve=action == "approve", reason=reason)
        return service.declaration_out(row)

    out = in_transaction(work)
    console.print(f"GS1 company prefix {out['companyPrefix']}: {out['stateName']} (state {out['state']})")


@app.command("approve")
def approve(company_prefix: str) -> None:
    """Approve a declaration awaiting audit."""
    _decide(company_prefix, "approve", None)


@app.command("reject")
def reject(company_prefix: str, reason: str = typer.Option(..., help="told to the enterprise")) -> None:
    """Reject a declaration awaiting audit."""
    _decide(company_prefix, "reject", reason)


@app.command("revoke")
def revoke(company_prefix: str, reason: str = typer.Option(..., help="told to the enterprise")) -> None:
    """Revoke an approved declaration: no new keys under it."""
    _decide(company_prefix, "revoke", reason)
