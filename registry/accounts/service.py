"""Business-API accounts: creating them, and logins (with lockout) that give bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

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
        snms_digest=snms_digest(password),
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


def snms_digest(password: str) -> str:
    """sha256(password) in hex: what an SNMS client hashes again with the day for ``/identity/token/v1``."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def set_password(account: Account, password: str) -> None:
    """The account's password: its scrypt hash and its SNMS digest."""
    account.password_hash = hash_secret(password)
    account.snms_digest = snms_digest(password)


# The SNMS digest login hashes the calendar day (yyyy-MM-dd). SNMS runs on China Standard Time; a client may use UTC.
# Days within DAY_SKEW of now in either zone are accepted, so a request sent just before midnight still counts.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8))
DAY_SKEW = timedelta(minutes=10)


def digest_days(now: datetime) -> set[date]:
    """The days an SNMS digest may hash at ``now``."""
    return {
        (now + shift).astimezone(zone).date()
        for zone in (CHINA_STANDARD_TIME, UTC)
        for shift in (-DAY_SKEW, timedelta(0), DAY_SKEW)
    }


def day_digest(digest: str, day: date) -> str:
    """sha256(sha256(password) + yyyy-MM-dd) in hex, as the client sends it to ``/identity/token/v1``."""
    return hashlib.sha256((digest + day.isoformat()).encode("ascii")).hexdigest()


async def login(
    session: AsyncSession, username: str, password: str, ttl_seconds: int, *, max_failures: int, lockout_seconds: int
) -> LoginOutcome:
    """Check a username and password. ``max_failures`` wrong passwords in a row lock the account for
    ``lockout_seconds``; while locked even the right password is refused. A success also records the password's
    SNMS digest when the account has none yet (accounts made before the digest login existed)."""

    def check(account: Account, now: datetime) -> bool | None:
        if not verify_secret(password, account.password_hash):
            return False
        if account.snms_digest is None:
            account.snms_digest = snms_digest(password)
        return True

    return await _login(session, username, check, ttl_seconds, max_failures, lockout_seconds)


async def login_digest(
    session: AsyncSession, username: str, hashed: str, ttl_seconds: int, *, max_failures: int, lockout_seconds: int
) -> LoginOutcome:
    """The SNMS digest login: ``hashed`` is sha256(sha256(password) + the day as yyyy-MM-dd) in hex. Wrong digests
    count towards the same lockout as wrong passwords. An account without a digest (made before this login existed
    and not logged in since) is refused without counting a failure."""
    hashed = hashed.strip().lower()

    def check(account: Account, now: datetime) -> bool | None:
        if account.snms_digest is None:
            return None
        candidates = (day_digest(account.snms_digest, day) for day in digest_days(now))
        return any(hmac.compare_digest(hashed, candidate) for candidate in candidates)

    return await _login(session, username, check, ttl_seconds, max_failures, lockout_seconds)


async def _login(
    session: AsyncSession,
    username: str,
    check: Callable[[Account, datetime], bool | None],
    ttl_seconds: int,
    max_failures: int,
    lockout_seconds: int,
) -> LoginOutcome:
    """``check`` says whether the account's credential matches (None: it cannot tell, no failure is counted)."""
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
    matched = check(account, now)
    if matched is None:
        return LoginOutcome(refusal=BadCredentials("wrong username or password"))
    if not matched:
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
