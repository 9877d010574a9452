"""Business API: an enterprise's webhook subscriptions (change notifications, ADR 0013) — its administrators manage
them, its auditors read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, NodeDatabase, NodeSettings, ReadSession, UnitOfWork
from foundation.http.requests import DATABASE_INT_MAX, RowId, parse_model
from registry.journal import repository as journal
from registry.webhooks import service
from registry.webhooks.service import subscription_out
from sync.delivery.worker import ping

router = APIRouter(prefix="/snms/api/v5/webhooks", tags=["business: webhooks"], route_class=BUSINESS.route_class)

TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL text holds no NUL)
PrefixText = Annotated[str, Field(max_length=128)]
URL_RULE = "http or https; by default not resolving to a loopback or private address"
Events = Field(
    default=None,
    max_length=len(service.CHANGE_KINDS),
    description=f"change kinds delivered, of {', '.join(service.CHANGE_KINDS)}; all when absent",
)


class NewSubscription(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    url: str = Field(max_length=2000, description=URL_RULE)
    prefixes: list[PrefixText] = Field(min_length=1, max_length=service.MAX_PREFIXES, description="prefixes it holds")
    events: list[str] | None = Events
    description: str | None = Field(default=None, max_length=200, pattern=TEXT)
    enterprise_id: int | None = Field(default=None, alias="enterpriseId", ge=1, le=DATABASE_INT_MAX)


class SubscriptionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000, description=URL_RULE)
    prefixes: list[PrefixText] | None = Field(default=None, min_length=1, max_length=service.MAX_PREFIXES)
    events: list[str] | None = Events
    description: str | None = Field(default=None, max_length=200, pattern=TEXT)
    enabled: bool | None = Field(
        default=None, description="false pauses; true resumes (also after the node disabled it)"
    )


class Redelivery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_seq: int = Field(alias="fromSeq", ge=1, le=DATABASE_INT_MAX, description="the first journal number sent again")


@router.post("", status_code=201, summary="Subscribe a webhook to the enterprise's prefixes; its secret is shown once")
async def create(settings: NodeSettings, body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(NewSubscription, body)
    subscription, secret = await service.create(
        session,
        settings,
        actor,
        enterprise_id=data.enterprise_id,
        url=data.url,
        prefixes=data.prefixes,
        kinds=data.events,
        description=data.description,
    )
    return ok(subscription_out(subscription) | {"secret": secret}, status_code=201)


@router.get("", summary="The enterprise's webhook subscriptions and their delivery state")
async def list_subscriptions(
    actor: BusinessActor,
    session: ReadSession,
    enterprise_id: Annotated[int | None, Query(alias="enterpriseId", ge=1, le=DATABASE_INT_MAX)] = None,
) -> Response:
    rows = await service.list_of(session, actor, enterprise_id)
    last = await journal.last_seq(session)
    return ok([subscription_out(s, last) for s in rows])


@router.get("/{subscription_id}", summary="A webhook subscription and its delivery state")
async def get(subscription_id: RowId, actor: BusinessActor, session: ReadSession) -> Response:
    subscription = await service.read(session, actor, subscription_id)
    return ok(subscription_out(subscription, await journal.last_seq(session)))


@router.get("/{subscription_id}/attempts", summary="Its most recent delivery attempts, newest first")
async def attempts(
    subscription_id: RowId,
    actor: BusinessActor,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    return ok(await service.attempts(session, actor, subscription_id, limit))


@router.put("/{subscription_id}", summary="Change its URL, prefixes or events; pause it or resume it (enabled)")
async def update(
    subscription_id: RowId, settings: NodeSettings, body: JsonPayload, actor: BusinessActor, session: UnitOfWork
) -> Response:
    data = parse_model(SubscriptionChange, body)
    subscription = await service.update(
        session,
        settings,
        actor,
        subscription_id,
        url=data.url,
        prefixes=data.prefixes,
        kinds=data.events,
        description=data.description,
        enabled=data.enabled,
    )
    return ok(subscription_out(subscription))


@router.delete("/{subscription_id}", summary="Unsubscribe: nothing more is delivered")
async def delete(subscription_id: RowId, actor: BusinessActor, session: UnitOfWork) -> Response:
    subscription = await service.delete(session, actor, subscription_id)
    return ok({"id": subscription.id, "deleted": True})


@router.post("/{subscription_id}/secret", summary="Rotate its signing secret: the new one is shown once")
async def rotate_secret(
    subscription_id: RowId, settings: NodeSettings, actor: BusinessActor, session: UnitOfWork
) -> Response:
    subscription, secret = await service.rotate_secret(session, settings, actor, subscription_id)
    return ok(subscription_out(subscription) | {"secret": secret})


@router.post("/{subscription_id}/redeliver", summary="Deliver again every change from a journal number on")
async def redeliver(subscription_id: RowId, body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(Redelivery, body)
    subscription = await service.redeliver(session, actor, subscription_id, data.from_seq)
    return ok(subscription_out(subscription))


@router.post("/{subscription_id}/ping", summary="Send a signed webhook.ping now and answer how the receiver took it")
async def send_ping(subscription_id: RowId, settings: NodeSettings, actor: BusinessActor, db: NodeDatabase) -> Response:
    async with db.read_session() as session:  # closed before the call: no transaction waits on the receiver
        subscription = await service.managed_read(session, actor, subscription_id)
    outcome = await ping(settings, subscription)
    return ok(
        {
            "ok": outcome.ok,
            "statusCode": outcome.status_code,
            "error": outcome.error,
            "durationMs": outcome.duration_ms,
        }
    )
