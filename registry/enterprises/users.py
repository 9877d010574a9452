"""An enterprise's users (administrators, registrars, auditors), their passwords, and its applications' API keys.

Only an enterprise's administrators (and the node administrator) manage them; nobody grants a role above
``enterprise_admin``, and an enterprise always keeps one active administrator.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.crypto.keys import new_token, token_digest, verify_secret
from foundation.crypto.passwords import check_password_strength
from foundation.errors import MissingParameter
from registry.accounts import repository
from registry.accounts.errors import BadCredentials, PasswordReused
from registry.accounts.models import Account, ApiKey
from registry.accounts.service import API_KEY_PREFIX, create_account, set_password
from registry.enterprises import repository as enterprises
from registry.enterprises.errors import (
    ApiKeyNotFound,
    ApiKeyRevoked,
    BadRole,
    EnterpriseNotFound,
    LastAdministrator,
    NoPassword,
    UsernameTaken,
    UserNotFound,
)
from registry.kernel.actor import AUDITOR, ENTERPRISE_ADMIN, ENTERPRISE_ROLES, REGISTRAR, Actor
from registry.kernel.clock import as_utc, utcnow

API_KEY_ROLES = (REGISTRAR, AUDITOR)  # applications register or read; they administer nothing


def _enterprise_of(actor: Actor, requested: int | None) -> int:
    """The enterprise an administrative request is about: the actor's own, or any for the node administrator."""
    actor.require_admin("managing users and API keys")
    if actor.is_node_admin:
        if requested is None:
            raise MissingParameter("enterpriseId is required for the node administrator")
        return requested
    if requested is not None and requested != actor.enterprise_id:
        raise EnterpriseNotFound(f"enterprise {requested} not found")
    assert actor.enterprise_id is not None  # an enterprise administrator belongs to its enterprise
    return actor.enterprise_id


def _check_role(role: str, allowed: tuple[str, ...]) -> None:
    if role not in allowed:
        raise BadRole(allowed)


def account_out(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "role": account.role,
        "enterpriseId": account.enterprise_id,
        "disabled": account.disabled,
        "lockedUntil": _locked_until(account),
        "createdAt": account.created_at.isoformat(),
        "passwordChangedAt": account.password_changed_at.isoformat() if account.password_changed_at else None,
    }


def _locked_until(account: Account) -> str | None:
    locked_until = as_utc(account.locked_until)
    return locked_until.isoformat() if locked_until is not None and locked_until > utcnow() else None


async def list_users(session: AsyncSession, actor: Actor, enterprise_id: int | None) -> list[Account]:
    return await repository.of_enterprise(session, _enterprise_of(actor, enterprise_id))


async def add_user(
    session: AsyncSession, actor: Actor, enterprise_id: int | None, username: str, password: str, role: str
) -> Account:
    enterprise_id = _enterprise_of(actor, enterprise_id)
    _check_role(role, ENTERPRISE_ROLES)
    if await enterprises.get(session, enterprise_id) is None:
        raise EnterpriseNotFound(f"enterprise {enterprise_id} not found")
    check_password_strength(password, username)
    if await repository.by_username(session, username) is not None:
        raise UsernameTaken(username)
    account = await create_account(session, username, password, role, enterprise_id)
    account.password_changed_at = account.created_at
    return account


async def _user_of(session: AsyncSession, actor: Actor, username: str) -> Account:
    account = await repository.by_username(session, username)
    if (
        account is None
        or account.enterprise_id is None
        or (not actor.is_node_admin and account.enterprise_id != actor.enterprise_id)
    ):
        raise UserNotFound(username)
    return account


async def change_user(
    session: AsyncSession, actor: Actor, username: str, *, role: str | None, disabled: bool | None, password: str | None
) -> Account:
    """An administrator changes a user's role, disables or re-enables it (which lifts a lockout), or sets a new
    password (which ends its sessions)."""
    actor.require_admin("managing users")
    account = await _user_of(session, actor, username)
    assert account.enterprise_id is not None  # _user_of finds only the users of an enterprise
    # one change per enterprise at a time, so the last-administrator rule below holds against concurrent demotions
    await repository.of_enterprise(session, account.enterprise_id, for_update=True)
    if role is not None:
        _check_role(role, ENTERPRISE_ROLES)
        account.role = role
    if disabled is not None:
        account.disabled = disabled
        if not disabled:
            account.failed_logins, account.locked_until = 0, None
    if password is not None:
        _set_password(account, password)
        await repository.drop_tokens_of(session, account.id)
    if disabled:
        await repository.drop_tokens_of(session, account.id)
    await session.flush()
    if not any(
        a.role == ENTERPRISE_ADMIN and not a.disabled
        for a in await repository.of_enterprise(session, account.enterprise_id)
    ):
        raise LastAdministrator()
    return account


def _set_password(account: Account, password: str) -> None:
    check_password_strength(password, account.username)
    set_password(account, password)
    account.password_changed_at = utcnow()


async def change_own_password(session: AsyncSession, actor: Actor, old: str, new: str) -> None:
    """A user rotates its password; every token it held ends."""
    if not actor.name.startswith("user:"):
        raise NoPassword()
    account = await repository.by_username(session, actor.name.removeprefix("user:"))
    if account is None or not verify_secret(old, account.password_hash):
        raise BadCredentials("the current password is wrong")
    if old == new:
        raise PasswordReused()
    _set_password(account, new)
    await repository.drop_tokens_of(session, account.id)
    await session.flush()


# ---- API keys -----------------------------------------------------------------------------------------------------


def api_key_out(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "enterpriseId": key.enterprise_id,
        "hint": key.hint,
        "createdBy": key.created_by,
        "createdAt": key.created_at.isoformat(),
        "expiresAt": key.expires_at.isoformat() if key.expires_at else None,
        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
    }


async def list_api_keys(session: AsyncSession, actor: Actor, enterprise_id: int | None) -> list[ApiKey]:
    return await repository.api_keys_of(session, _enterprise_of(actor, enterprise_id))


async def issue_api_key(
    session: AsyncSession, actor: Actor, enterprise_id: int | None, name: str, role: str, expires_in_days: int | None
) -> tuple[ApiKey, str]:
    """A new key; the key itself is returned once and stored only as its digest."""
    enterprise_id = _enterprise_of(actor, enterprise_id)
    _check_role(role, API_KEY_ROLES)
    if await enterprises.get(session, enterprise_id) is None:
        raise EnterpriseNotFound(f"enterprise {enterprise_id} not found")
    secret, now = API_KEY_PREFIX + new_token(), utcnow()
    key = ApiKey(
        enterprise_id=enterprise_id,
        name=name,
        role=role,
        digest=token_digest(secret),
        hint=secret[: len(API_KEY_PREFIX) + 6],
        created_by=actor.name,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(key)
    await session.flush()
    return key, secret


async def _key_of(session: AsyncSession, actor: Actor, key_id: int) -> ApiKey:
    actor.require_admin("managing API keys")
    key = await session.get(ApiKey, key_id)
    if key is None or (not actor.is_node_admin and key.enterprise_id != actor.enterprise_id):
        raise ApiKeyNotFound(key_id)
    return key


async def revoke_api_key(session: AsyncSession, actor: Actor, key_id: int) -> ApiKey:
    key = await _key_of(session, actor, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key


async def rotate_api_key(session: AsyncSession, actor: Actor, key_id: int) -> tuple[ApiKey, str]:
    """Revoke a key and issue its successor (same name, role and lifetime)."""
    old = await _key_of(session, actor, key_id)
    if old.revoked_at is not None:
        raise ApiKeyRevoked(key_id)
    lifetime = (old.expires_at - old.created_at).days if old.expires_at else None
    old.revoked_at = utcnow()
    return await issue_api_key(session, actor, old.enterprise_id, old.name, old.role, lifetime)
