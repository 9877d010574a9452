"""Business API: prefix application, audit, enabling, disabling and deletion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, NodeSettings, UnitOfWork
from foundation.http.dependencies import PageWindow
from foundation.http.requests import DATABASE_INT_MAX, parse_model
from registry.accounts import repository as accounts
from registry.enterprises.schemas import Audit
from registry.prefixes import repository, service
from registry.prefixes.service import prefix_out

router = APIRouter(prefix="/snms/api/v5/prefixes", tags=["business: prefixes"], route_class=BUSINESS.route_class)


class PrefixApplication(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    enterprise_id: int | None = Field(default=None, alias="enterpriseId", ge=1, le=DATABASE_INT_MAX)
    code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{1,32}$",
        description="a requested free code; the next free number when absent",
    )
    admin_password: str | None = Field(
        default=None,
        alias="adminPassword",
        min_length=8,
        max_length=128,
        description="secret of <prefix>/admin; the applicant's password when absent",
    )


@router.post("", status_code=201, summary="Apply for an enterprise prefix (state 4, awaiting audit)")
async def apply(settings: NodeSettings, body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(PrefixApplication, body)
    account = await accounts.by_username(session, actor.name.removeprefix("user:"))
    prefix = await service.apply(
        session,
        settings,
        actor,
        enterprise_id=data.enterprise_id,
        code=data.code,
        admin_password=data.admin_password,
        account=account if account and not actor.is_node_admin else None,
    )
    return ok(prefix_out(prefix), status_code=201)


@router.get("", summary="List prefixes (the node administrator sees all, an enterprise its own)")
async def list_prefixes(
    window: PageWindow,
    actor: BusinessActor,
    session: UnitOfWork,
    state: Annotated[int | None, Query(ge=0, le=99)] = None,
) -> Response:
    limit, offset = window
    rows = await repository.list_all(
        session,
        state=state,
        enterprise_id=actor.listing_scope,
        limit=limit,
        offset=offset,
    )
    return ok([prefix_out(p) for p in rows])


@router.get("/{prefix}", summary="One prefix")
async def get_prefix(prefix: str, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(prefix_out(await service.get(session, actor, prefix)))


@router.post("/{prefix}/audit", summary="Approve or reject (node administrator); approval enables it here")
async def audit(
    prefix: str, settings: NodeSettings, body: JsonPayload, actor: BusinessActor, session: UnitOfWork
) -> Response:
    decision = parse_model(Audit, body)
    # with a top-level node, an approved prefix waits for its decision
    result = await service.audit(
        session,
        settings,
        actor,
        prefix,
        approve=decision.approve,
        reason=decision.reason,
        upstream=bool(settings.upstream_url),
    )
    return ok(prefix_out(result))


@router.post("/{prefix}/enable", summary="Enable a disabled prefix (node administrator)")
async def enable(prefix: str, settings: NodeSettings, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(prefix_out(await service.set_enabled(session, settings, actor, prefix, True)))


@router.post("/{prefix}/disable", summary="Disable a prefix: writes under it are refused (node administrator)")
async def disable(prefix: str, settings: NodeSettings, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(prefix_out(await service.set_enabled(session, settings, actor, prefix, False)))


@router.delete("/{prefix}", summary="Request deletion of an empty prefix (its owner or the node administrator)")
async def delete(prefix: str, settings: NodeSettings, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(prefix_out(await service.request_delete(session, actor, prefix, upstream=bool(settings.upstream_url))))
