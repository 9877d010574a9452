"""Business API: enterprise onboarding and audit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, NodeSettings, UnitOfWork
from foundation.http.dependencies import PageWindow
from foundation.http.requests import RowId, credentials_allowed, parse_model
from registry.authentication.errors import InsecureApplication
from registry.enterprises import repository, service
from registry.enterprises.schemas import Audit, EnterpriseApplication
from registry.enterprises.service import enterprise_out
from registry.enterprises.states import EnterpriseState

router = APIRouter(prefix="/snms/api/v5/enterprises", tags=["business: enterprises"], route_class=BUSINESS.route_class)


@router.post("", status_code=201, summary="Apply: a real-name record and the account to log in with (public)")
async def apply(request: Request, settings: NodeSettings, body: JsonPayload, session: UnitOfWork) -> Response:
    if not credentials_allowed(request, settings):
        raise InsecureApplication()
    data = parse_model(EnterpriseApplication, body)
    enterprise = await service.apply(session, data, actor_name=f"user:{data.username}")
    return ok(enterprise_out(enterprise), status_code=201)


@router.get("", summary="List enterprises (the node administrator sees all, an enterprise itself)")
async def list_enterprises(
    window: PageWindow, actor: BusinessActor, session: UnitOfWork, state: EnterpriseState | None = None
) -> Response:
    limit, offset = window
    rows = await repository.list_all(
        session,
        state=state,
        enterprise_id=actor.listing_scope,
        limit=limit,
        offset=offset,
    )
    return ok([enterprise_out(e) for e in rows])


@router.get("/{enterprise_id}", summary="One enterprise")
async def get_enterprise(enterprise_id: RowId, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(enterprise_out(await service.get(session, actor, enterprise_id)))


@router.post("/{enterprise_id}/audit", summary="Approve or reject an application (node administrator)")
async def audit(enterprise_id: RowId, body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    decision = parse_model(Audit, body)
    enterprise = await service.audit(session, actor, enterprise_id, decision.approve, decision.reason)
    return ok(enterprise_out(enterprise))


@router.post("/{enterprise_id}/disable", summary="Suspend an approved enterprise (node administrator)")
async def disable(enterprise_id: RowId, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(enterprise_out(await service.set_disabled(session, actor, enterprise_id, True)))


@router.post("/{enterprise_id}/enable", summary="Lift a suspension (node administrator)")
async def enable(enterprise_id: RowId, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(enterprise_out(await service.set_disabled(session, actor, enterprise_id, False)))
