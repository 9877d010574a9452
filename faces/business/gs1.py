"""Business API: GS1 company prefix declarations (an enterprise declares, the node administrator audits)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, UnitOfWork
from foundation.http.dependencies import PageWindow
from foundation.http.requests import DATABASE_INT_MAX, parse_model
from registry.enterprises.schemas import Audit
from registry.gs1 import repository, service
from registry.gs1.service import declaration_out

router = APIRouter(
    prefix="/snms/api/v5/gs1/company-prefixes", tags=["business: GS1 keys"], route_class=BUSINESS.route_class
)


class Declaration(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    company_prefix: str = Field(alias="companyPrefix", pattern=r"^[0-9]{4,12}$", description="4 to 12 digits")
    enterprise_id: int | None = Field(
        default=None, alias="enterpriseId", ge=1, le=DATABASE_INT_MAX, description="the node administrator's only"
    )
    evidence: str | None = Field(
        default=None, max_length=500, description="what shows GS1 licensed it, e.g. the member certificate number"
    )


class Revocation(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


@router.post("", status_code=201, summary="Declare a GS1 company prefix (state 4, awaiting audit)")
async def declare(body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(Declaration, body)
    row = await service.declare(
        session, actor, data.company_prefix, enterprise_id=data.enterprise_id, evidence=data.evidence
    )
    return ok(declaration_out(row), status_code=201)


@router.get("", summary="List declarations (the node administrator sees all, an enterprise its own)")
async def list_declarations(
    window: PageWindow,
    actor: BusinessActor,
    session: UnitOfWork,
    state: Annotated[int | None, Query(ge=0, le=99)] = None,
) -> Response:
    limit, offset = window
    rows = await repository.list_all(
        session, enterprise_id=actor.listing_scope, state=state, limit=limit, offset=offset
    )
    return ok([declaration_out(r) for r in rows])


@router.get("/{company_prefix}", summary="One declaration")
async def get_declaration(company_prefix: str, actor: BusinessActor, session: UnitOfWork) -> Response:
    return ok(declaration_out(await service.get(session, actor, company_prefix)))


@router.post("/{company_prefix}/audit", summary="Approve or reject a declaration (node administrator)")
async def audit(company_prefix: str, body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    decision = parse_model(Audit, body)
    row = await service.audit(session, actor, company_prefix, approve=decision.approve, reason=decision.reason)
    return ok(declaration_out(row))


@router.post("/{company_prefix}/revoke", summary="Revoke an approved declaration (node administrator)")
async def revoke(company_prefix: str, body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(Revocation, body)
    return ok(declaration_out(await service.revoke(session, actor, company_prefix, data.reason)))
