"""Business-API accounts: creating them, and logins (with lockout) that give bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.crypto.keys import hash_secret, new_token, token_digest, verify_secret
from foundation.errors import DomainError
from registry.accounts import repository
from registry.accounts.errors import AccountLocked, BadCredentials
from registry.accounts.models import Account, Token
from registry.kernel.actor import ENTERPRISE_ADMIN, NODE_ADMIN
from registry.kernel.clock import as_utc, utcnow

NODE_ADMIN_ROLE = NODE_ADMIN
ENTERPRISE_ROLE = ENTERPRISE_ADMIN
API_KEY_PREFIX = "snk_"
NODE_ADMIN_USERNAME = "admin"


async def create_account(
    session: AsyncSession, username: str, password: str, role: str, enterprise_id: int | None
) -> Account:
    account = Account(
        username=username,
        password_hash=hash_secret(password),
        role=role,
        enterprise_id=enterprise_id,
        disabled=False,
        created_at=utcnow(),
    )
    session.add(account)
    await session.flush()
    return account


@dataclass(frozen=True)
class LoginOutcome:
    """A login's result. A refusal is returned, not raised, so that the failure count it changed is committed."""

    token: str | None = None
    ttl: int = 0
    refusal: DomainError | None = None


async def login(
    session: AsyncSession, username: str, password: str, ttl_seconds: int, *, max_failures: int, lockout_seconds: int
) -> LoginOutcome:
    """Check a username and password. ``max_failures`` wrong passwords in a row lock the account for
    ``lockout_seconds``; while locked even the right password is refused."""
    account = await repository.by_username(session, username)
    now = utcnow()
    if account is None or account.disabled:
        return LoginOutcome(refusal=BadCredentials("wrong username or password"))
    locked_until = as_utc(account.locked_until)
    if locked_until is not None and locked_until > now:
        return LoginOutcome(
            refusal=AccountLocked(
                f"the account is locked after {max_failures} failed logins until {locked_until.isoformat()}"
            )
        )
    if not verify_secret(password, account.password_hash):
        await repository.count_failed_login(session, account.id, max_failures, now + timedelta(seconds=lockout_seconds))
        return LoginOutcome(refusal=BadCredentials("wrong username or password"))
    account.failed_logins, account.locked_until = 0, None
    token = new_token()
    session.add(
        Token(
            digest=token_digest(token),
            account_id=account.id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    await repository.purge_expired_tokens(session, now)
    await session.flush()
    return LoginOutcome(token=token, ttl=ttl_seconds)
