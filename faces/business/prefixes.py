"""Business API: prefix application, audit, enabling, disabling and deletion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from faces.actors import business_actor
from foundation.errors import DomainError
from foundation.http.faces import DATABASE_INT_MAX, page_window, parse_model, read_json, snms_error, snms_ok
from registry.accounts import repository as accounts
from registry.enterprises.schemas import Audit
from registry.prefixes import repository, service
from registry.prefixes.service import prefix_out

router = APIRouter(prefix="/snms/api/v5/prefixes", tags=["business: prefixes"])


class PrefixApplication(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    enterprise_id: int | None = Field(default=None, alias="enterpriseId", ge=1, le=DATABASE_INT_MAX)
    code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,32}$",
                             description="a requested free code; the next free number when absent")
    admin_password: str | None = Field(default=None, alias="adminPassword", min_length=8, max_length=128,
                                       description="secret of <prefix>/admin; the applicant's password when absent")


def _upstream(request: Request) -> bool:
    return bool(getattr(request.app.state, "upstream", None))


@router.post("", summary="Apply for an enterprise prefix (state 4, awaiting audit)")
async def apply(request: Request) -> Response:
    try:
        data = parse_model(PrefixApplication, await read_json(request))
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            account = await accounts.by_username(session, actor.name.removeprefix("user:"))
            prefix = await service.apply(session, request.app.state.settings, actor, enterprise_id=data.enterprise_id,
                                         code=data.code, admin_password=data.admin_password,
                                         account=account if account and not actor.is_node_admin else None)
            out = prefix_out(prefix)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out, status_code=201)


@router.get("", summary="List prefixes (the node administrator sees all, an enterprise its own)")
async def list_prefixes(request: Request, state: Annotated[int | None, Query(ge=0, le=99)] = None, page: int = 0,
                        pageSize: int = 100) -> Response:  # noqa: N803 (SNMS parameter names)
    try:
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            limit, offset = page_window(page, pageSize)
            rows = await repository.list_all(
                session, state=state, enterprise_id=None if actor.is_node_admin else (actor.enterprise_id or -1),
                limit=limit, offset=offset)
            out = [prefix_out(p) for p in rows]
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


@router.get("/{prefix}", summary="One prefix")
async def get_prefix(prefix: str, request: Request) -> Response:
    try:
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            out = prefix_out(await service.get(session, actor, prefix))
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


@router.post("/{prefix}/audit", summary="Approve or reject (node administrator); approval enables it here")
async def audit(prefix: str, request: Request) -> Response:
    try:
        decision = parse_model(Audit, await read_json(request))
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            result = await service.audit(session, request.app.state.settings, actor, prefix,
                                         approve=decision.approve, reason=decision.reason,
                                         upstream=_upstream(request))
            out = prefix_out(result)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


async def _set(request: Request, prefix: str, enabled: bool) -> Response:
    try:
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            out = prefix_out(await service.set_enabled(session, request.app.state.settings, actor, prefix, enabled))
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


@router.post("/{prefix}/enable", summary="Enable a disabled prefix (node administrator)")
async def enable(prefix: str, request: Request) -> Response:
    return await _set(request, prefix, True)


@router.post("/{prefix}/disable", summary="Disable a prefix: writes under it are refused (node administrator)")
async def disable(prefix: str, request: Request) -> Response:
    return await _set(request, prefix, False)


@router.delete("/{prefix}", summary="Request deletion of an empty prefix (its owner or the node administrator)")
async def delete(prefix: str, request: Request) -> Response:
    try:
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            out = prefix_out(await service.request_delete(session, actor, prefix, upstream=_upstream(request)))
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)
