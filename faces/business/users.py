"""Business API: an enterprise's users and API keys, and a user's own password."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, ReadSession, UnitOfWork
from foundation.http.requests import DATABASE_INT_MAX, RowId, parse_model
from foundation.text import is_decimal
from registry.enterprises import users
from registry.kernel.actor import AUDITOR, ENTERPRISE_ADMIN, REGISTRAR

router = APIRouter(prefix="/identity", tags=["business: identity"], route_class=BUSINESS.route_class)
EnterpriseId = Field(
    default=None,
    alias="enterpriseId",
    ge=1,
    le=DATABASE_INT_MAX,
    description="for the node administrator: the enterprise meant",
)


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=256)
    role: Literal["enterprise_admin", "registrar", "auditor"] = REGISTRAR
    enterprise_id: int | None = EnterpriseId


class UserChange(BaseModel):
    role: Literal["enterprise_admin", "registrar", "auditor"] | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256)


class PasswordChange(BaseModel):
    old_password: str = Field(alias="oldPassword", min_length=1, max_length=256)
    new_password: str = Field(alias="newPassword", min_length=1, max_length=256)


class NewApiKey(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["registrar", "auditor"] = REGISTRAR
    expires_in_days: int | None = Field(default=None, alias="expiresInDays", ge=1, le=3650)
    enterprise_id: int | None = EnterpriseId


def _enterprise_param(request: Request) -> int | None:
    raw = request.query_params.get("enterpriseId")
    return int(raw) if raw and is_decimal(raw) and int(raw) <= DATABASE_INT_MAX else None


@router.get("/users", summary="The enterprise's users (its administrators; the node administrator names one)")
async def list_users(request: Request, actor: BusinessActor, session: ReadSession) -> Response:
    rows = await users.list_users(session, actor, _enterprise_param(request))
    return ok([users.account_out(a) for a in rows])


@router.post("/users", status_code=201, summary=f"Add a user: {ENTERPRISE_ADMIN}, {REGISTRAR} or {AUDITOR}")
async def add_user(body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(NewUser, body)
    account = await users.add_user(session, actor, data.enterprise_id, data.username, data.password, data.role)
    out = users.account_out(account)
    return ok(out, status_code=201)


@router.put(
    "/users/{username}", summary="Change a user's role, disable or re-enable it (lifts a lockout), or set its password"
)
async def change_user(username: str, body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(UserChange, body)
    account = await users.change_user(
        session, actor, username, role=data.role, disabled=data.disabled, password=data.password
    )
    out = users.account_out(account)
    return ok(out)


@router.put("/password", summary="Rotate one's own password; the user's tokens end")
async def change_password(body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(PasswordChange, body)
    await users.change_own_password(session, actor, data.old_password, data.new_password)
    return ok(None, message="password changed; log in again")


@router.get("/api-keys", summary="The enterprise's API keys (never the keys themselves)")
async def list_api_keys(request: Request, actor: BusinessActor, session: ReadSession) -> Response:
    rows = await users.list_api_keys(session, actor, _enterprise_param(request))
    return ok([users.api_key_out(k) for k in rows])


@router.post("/api-keys", status_code=201, summary="Issue an API key for an application: shown once")
async def issue_api_key(body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    data = parse_model(NewApiKey, body)
    key, secret = await users.issue_api_key(
        session, actor, data.enterprise_id, data.name, data.role, data.expires_in_days
    )
    out = users.api_key_out(key) | {"key": secret}
    return ok(out, status_code=201)


@router.post("/api-keys/{key_id}/rotate", summary="Revoke a key and issue its successor: shown once")
async def rotate_api_key(key_id: RowId, actor: BusinessActor, session: UnitOfWork) -> Response:
    key, secret = await users.rotate_api_key(session, actor, key_id)
    out = users.api_key_out(key) | {"key": secret}
    return ok(out)


@router.delete("/api-keys/{key_id}", summary="Revoke an API key: it stops working at once")
async def revoke_api_key(key_id: RowId, actor: BusinessActor, session: UnitOfWork) -> Response:
    out = users.api_key_out(await users.revoke_api_key(session, actor, key_id))
    return ok(out)
