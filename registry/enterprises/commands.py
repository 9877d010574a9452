"""``secnode enterprise``: the node administrator registers, approves, rejects, disables and enables enterprises."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from foundation.cli import console, print_rows
from registry.cli_support import cli_actor, in_transaction

if TYPE_CHECKING:  # only for annotations: the module stays light for --help
    from sqlalchemy.ext.asyncio import AsyncSession

    from foundation.config import Settings

app = typer.Typer(help="Enterprises (node administrator)", no_args_is_help=True)


@app.command("add")
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
    # deferred to keep --help fast: they load FastAPI and the ORM models
    from foundation.http.requests import parse_model
    from registry.enterprises import service
    from registry.enterprises.schemas import EnterpriseApplication

    async def work(session: AsyncSession, settings: Settings) -> Any:
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
        enterprise = await service.apply(session, data, cli_actor().name)
        if approve:
            enterprise = await service.audit(session, cli_actor(), enterprise.id, True, None)
        return service.enterprise_out(enterprise)

    out = in_transaction(work)
    console.print(f"enterprise {out['id']} {out['name']}: {out['state']}")


@app.command("list")
def enterprise_list(state: str | None = typer.Option(None)) -> None:
    """List enterprises."""
    from registry.enterprises import repository, service  # deferred to keep --help fast: they load the ORM models

    async def work(session: AsyncSession, settings: Settings) -> Any:
        return [service.enterprise_out(e) for e in await repository.list_all(session, state=state, limit=10_000)]

    print_rows("enterprises", in_transaction(work), ["id", "name", "creditCode", "industry", "state"])


def _decision(enterprise_id: int, action: str, reason: str | None) -> None:
    from registry.enterprises import service  # deferred to keep --help fast: it loads the ORM models

    async def work(session: AsyncSession, settings: Settings) -> Any:
        if action in ("approve", "reject"):
            enterprise = await service.audit(session, cli_actor(), enterprise_id, action == "approve", reason)
        else:
            enterprise = await service.set_disabled(session, cli_actor(), enterprise_id, action == "disable", reason)
        return service.enterprise_out(enterprise)

    out = in_transaction(work)
    console.print(f"enterprise {out['id']}: {out['state']}")


@app.command("approve")
def enterprise_approve(enterprise_id: int) -> None:
    """Approve an application."""
    _decision(enterprise_id, "approve", None)


@app.command("reject")
def enterprise_reject(enterprise_id: int, reason: str = typer.Option(...)) -> None:
    """Reject an application."""
    _decision(enterprise_id, "reject", reason)


@app.command("disable")
def enterprise_disable(enterprise_id: int, reason: str | None = typer.Option(None)) -> None:
    """Suspend an enterprise: writes under its prefixes are refused."""
    _decision(enterprise_id, "disable", reason)


@app.command("enable")
def enterprise_enable(enterprise_id: int) -> None:
    """Lift a suspension."""
    _decision(enterprise_id, "enable", None)
