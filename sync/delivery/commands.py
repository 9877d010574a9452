"""``secnode webhook``: the operator's view of webhook subscriptions (list, attempts), resuming, pausing and
redelivering them, and the delivery loop as a process of its own."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import typer

from foundation.cli import command_database, console, print_rows
from foundation.config import get_settings
from registry.cli_support import cli_actor, in_transaction

if TYPE_CHECKING:  # only for annotations: the module stays light for --help
    from sqlalchemy.ext.asyncio import AsyncSession

    from foundation.config import Settings

app = typer.Typer(help="Webhook subscriptions (change notifications)", no_args_is_help=True)
COLUMNS = ["id", "enterpriseId", "state", "url", "cursor", "lag", "failures", "lastError"]


def _row(out: dict[str, Any]) -> dict[str, Any]:
    delivery = out["delivery"]
    return {
        **out,
        "cursor": delivery["cursor"],
        "lag": delivery.get("lag", ""),
        "failures": delivery["consecutiveFailures"],
        "lastError": delivery["lastError"] or "",
    }


@app.command("list")
def webhook_list(enterprise_id: int | None = typer.Option(None)) -> None:
    """Subscriptions (of one enterprise, or all) with their delivery state."""
    # deferred to keep --help fast: they load the ORM models
    from registry.journal import repository as journal
    from registry.webhooks import repository
    from registry.webhooks.service import subscription_out

    async def work(session: AsyncSession, settings: Settings) -> Any:
        rows = (
            await repository.of_enterprise(session, enterprise_id)
            if enterprise_id is not None
            else await repository.list_all(session)
        )
        last = await journal.last_seq(session)
        return [_row(subscription_out(s, last)) for s in rows]

    print_rows("webhook subscriptions", in_transaction(work), COLUMNS)


@app.command("attempts")
def webhook_attempts(subscription_id: int, limit: int = typer.Option(20)) -> None:
    """A subscription's most recent delivery attempts."""
    from registry.webhooks import service  # deferred to keep --help fast: it loads the ORM models

    async def work(session: AsyncSession, settings: Settings) -> Any:
        return await service.attempts(session, cli_actor(), subscription_id, limit)

    print_rows(
        f"attempts of subscription {subscription_id}",
        in_transaction(work),
        ["attemptedAt", "messageId", "ok", "statusCode", "error", "durationMs", "changes"],
    )


def _set_enabled(subscription_id: int, enabled: bool) -> None:
    from registry.webhooks import service  # deferred to keep --help fast: it loads the ORM models

    async def work(session: AsyncSession, settings: Settings) -> Any:
        return service.subscription_out(
            await service.update(session, settings, cli_actor(), subscription_id, enabled=enabled)
        )

    out = in_transaction(work)
    console.print(f"subscription {out['id']}: {out['state']}")


@app.command("enable")
def webhook_enable(subscription_id: int) -> None:
    """Resume a paused subscription, or one the node disabled after failures (its failure streak is cleared)."""
    _set_enabled(subscription_id, True)


@app.command("pause")
def webhook_pause(subscription_id: int) -> None:
    """Stop delivering (changes wait in the journal until it is enabled again)."""
    _set_enabled(subscription_id, False)


@app.command("redeliver")
def webhook_redeliver(subscription_id: int, from_seq: int = typer.Option(..., help="first journal number")) -> None:
    """Deliver again every change of the subscription from a journal number on."""
    from registry.webhooks import service  # deferred to keep --help fast: it loads the ORM models

    async def work(session: AsyncSession, settings: Settings) -> Any:
        return service.subscription_out(await service.redeliver(session, cli_actor(), subscription_id, from_seq))

    out = in_transaction(work)
    console.print(f"subscription {out['id']}: delivering again after journal number {out['delivery']['cursor']}")


@app.command("run")
def webhook_run() -> None:
    """Deliver webhooks in this process (beside or instead of `serve`'s workers: SECNODE_WEBHOOKS_IN_SERVE)."""
    from sync.delivery.worker import run_delivery  # deferred to keep --help fast: it loads the ORM models

    settings = get_settings()

    async def run() -> None:
        async with command_database(settings) as db:
            await run_delivery(db, settings)

    asyncio.run(run())
