"""Business API: enterprise onboarding and audit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.actors import business_actor
from foundation.errors import DomainError, InvalidRequest
from foundation.http.faces import RowId, credentials_allowed, page_window, parse_model, read_json, snms_error, snms_ok
from registry.enterprises import repository, service
from registry.enterprises.schemas import Audit, EnterpriseApplication
from registry.enterprises.service import enterprise_out

router = APIRouter(prefix="/snms/api/v5/enterprises", tags=["business: enterprises"])


@router.post("", summary="Apply: a real-name record and the account to log in with (public)")
async def apply(request: Request) -> Response:
    try:
        if not credentials_allowed(request, request.app.state.settings):
            raise InvalidRequest("applications carry a password: use HTTPS", name="auth.insecure_transport")
        data = parse_model(EnterpriseApplication, await read_json(request))
        async with request.app.state.db.unit_of_work() as session:
            enterprise = await service.apply(session, data, actor_name=f"user:{data.username}")
            out = enterprise_out(enterprise)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out, status_code=201)


@router.get("", summary="List enterprises (the node administrator sees all, an enterprise itself)")
async def list_enterprises(request: Request, state: str | None = None, page: int = 0,
                           pageSize: int = 100) -> Response:  # noqa: N803 (SNMS parameter names)
    try:
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            limit, offset = page_window(page, pageSize)
            rows = await repository.list_all(
                session, state=state, enterprise_id=None if actor.is_node_admin else (actor.enterprise_id or -1),
                limit=limit, offset=offset)
            out = [enterprise_out(e) for e in rows]
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


@router.get("/{enterprise_id}", summary="One enterprise")
async def get_enterprise(enterprise_id: RowId, request: Request) -> Response:
    try:
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            out = enterprise_out(await service.get(session, actor, enterprise_id))
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


async def _decide(request: Request, enterprise_id: int, action: str) -> Response:
    try:
        raw = await read_json(request) if action == "audit" else {}
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            if action == "audit":
                decision = parse_model(Audit, raw)
                enterprise = await service.audit(session, actor, enterprise_id, decision.approve, decision.reason)
            else:
                enterprise = await service.set_disabled(session, actor, enterprise_id, action == "disable")
            out = enterprise_out(enterprise)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


@router.post("/{enterprise_id}/audit", summary="Approve or reject an application (node administrator)")
async def audit(enterprise_id: RowId, request: Request) -> Response:
    return await _decide(request, enterprise_id, "audit")


@router.post("/{enterprise_id}/disable", summary="Suspend an approved enterprise (node administrator)")
async def disable(enterprise_id: RowId, request: Request) -> Response:
    return await _decide(request, enterprise_id, "disable")


@router.post("/{enterprise_id}/enable", summary="Lift a suspension (node administrator)")
async def enable(enterprise_id: RowId, request: Request) -> Response:
    return await _decide(request, enterprise_id, "enable")
