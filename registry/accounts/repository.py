from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from registry.accounts.models import Account, ApiKey, SecretLockout, Token


async def by_username(session: AsyncSession, username: str) -> Account | None:
    return (await session.execute(select(Account).where(Account.username == username))).scalar_one_or_none()


async def by_token(session: AsyncSession, digest: str, now: datetime) -> Account | None:
    query = (
        select(Account)
        .join(Token, Token.account_id == Account.id)
        .where(Token.digest == digest, Token.expires_at > now)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def purge_expired_tokens(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(Token).where(Token.expires_at <= now))


async def of_enterprise(session: AsyncSession, enterprise_id: int, *, for_update: bool = False) -> list[Account]:
    query = select(Account).where(Account.enterprise_id == enterprise_id).order_by(Account.username)
    return list((await session.execute(query.with_for_update() if for_update else query)).scalars())


async def api_key_by_digest(session: AsyncSession, digest: str, now: datetime) -> ApiKey | None:
    query = select(ApiKey).where(
        ApiKey.digest == digest, ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def api_keys_of(session: AsyncSession, enterprise_id: int) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.enterprise_id == enterprise_id).order_by(ApiKey.id)
    return list((await session.execute(query)).scalars())


async def drop_tokens_of(session: AsyncSession, account_id: int) -> None:
    await session.execute(delete(Token).where(Token.account_id == account_id))


async def count_failed_login(session: AsyncSession, account_id: int, max_failures: int, lock_until: datetime) -> None:
    """One more wrong password, counted in the database so that concurrent failures all count; the last allowed
    one locks the account and starts the count again."""
    reached = Account.failed_logins + 1 >= max_failures
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            locked_until=case((reached, lock_until), else_=Account.locked_until),
            failed_logins=case((reached, 0), else_=Account.failed_logins + 1),
        )
    )


async def secret_lockout(session: AsyncSession, identity: str, source: str) -> SecretLockout | None:
    return await session.get(SecretLockout, (identity, source))


async def count_wrong_secret(
    session: AsyncSession, identity: str, source: str, max_failures: int, lock_until: datetime
) -> None:
    """One more wrong Basic-auth secret for ``identity`` from ``source``, counted as ``count_failed_login`` counts
    passwords."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    first_locks = max_failures <= 1
    statement = dialect.insert(SecretLockout).values(
        identity=identity,
        source=source,
        failed_attempts=0 if first_locks else 1,
        locked_until=lock_until if first_locks else None,
    )
    reached = SecretLockout.failed_attempts + 1 >= max_failures
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["identity", "source"],
            set_={
                "locked_until": case((reached, lock_until), else_=SecretLockout.locked_until),
                "failed_attempts": case((reached, 0), else_=SecretLockout.failed_attempts + 1),
            },
        )
    )


async def clear_secret_lockout(session: AsyncSession, identity: str, source: str) -> None:
    await session.execute(
        delete(SecretLockout).where(SecretLockout.identity == identity, SecretLockout.source == source)
    )
