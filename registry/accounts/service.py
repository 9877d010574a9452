"""Authentication: business-API accounts and bearer tokens, Handle Basic auth against HS_SECKEY values."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession

from node.crypto import hash_secret, new_token, token_digest, verify_secret
from node.errors import Unauthenticated
from registry.accounts import repository
from registry.accounts.actor import Actor
from registry.accounts.models import Account, Token
from registry.clock import utcnow
from registry.handles import repository as handles
from registry.handles.permissions import identity_key
from registry.handles.syntax import canonical, na_handle
from registry.prefixes import repository as prefixes
from registry.prefixes.states import PrefixState

NODE_ADMIN_ROLE = "node_admin"
ENTERPRISE_ROLE = "enterprise_admin"
NODE_ADMIN_USERNAME = "admin"

# Successful secret checks, remembered briefly so Basic auth does not pay scrypt on every request.
# Keyed by a digest of (identity, secret, stored hash): a changed secret never matches an old entry.
_VERIFIED: dict[str, float] = {}
_VERIFIED_TTL = 60.0


def _check_secret_cached(identity: str, secret: str, stored: str) -> bool:
    key = hashlib.sha256(f"{identity}\0{secret}\0{stored}".encode()).hexdigest()
    now = time.monotonic()
    if _VERIFIED.get(key, 0.0) > now:
        return True
    if not verify_secret(secret, stored):
        return False
    if len(_VERIFIED) > 10_000:
        _VERIFIED.clear()
    _VERIFIED[key] = now + _VERIFIED_TTL
    return True


def node_admin_identity(node_prefix: str) -> str:
    return identity_key(300, na_handle(node_prefix))


async def create_account(session: AsyncSession, username: str, password: str, role: str,
                         enterprise_id: int | None) -> Account:
    account = Account(username=username, password_hash=hash_secret(password), role=role,
                      enterprise_id=enterprise_id, disabled=False, created_at=utcnow())
    session.add(account)
    await session.flush()
    return account


async def actor_for_account(session: AsyncSession, account: Account, node_prefix: str) -> Actor:
    if account.role == NODE_ADMIN_ROLE:
        return Actor(name=f"user:{account.username}", identities=frozenset({node_admin_identity(node_prefix)}),
                     is_node_admin=True)
    identities: set[str] = set()
    if account.enterprise_id is not None:
        for prefix in await prefixes.of_enterprise(session, account.enterprise_id):
            if prefix.state == PrefixState.ENABLED:
                identities.add(identity_key(300, f"{prefix.prefix}/admin"))
    return Actor(name=f"user:{account.username}", identities=frozenset(identities),
                 enterprise_id=account.enterprise_id)


async def login(session: AsyncSession, username: str, password: str, ttl_seconds: int) -> tuple[str, int]:
    """Check a username and password; returns a new bearer token and its lifetime in seconds."""
    account = await repository.by_username(session, username)
    if account is None or account.disabled or not verify_secret(password, account.password_hash):
        raise Unauthenticated("wrong username or password", name="auth.bad_credentials")
    token = new_token()
    now = utcnow()
    session.add(Token(digest=token_digest(token), account_id=account.id, created_at=now,
                      expires_at=now + timedelta(seconds=ttl_seconds)))
    await repository.purge_expired_tokens(session, now)
    await session.flush()
    return token, ttl_seconds


async def actor_for_token(session: AsyncSession, token: str, node_prefix: str) -> Actor:
    account = await repository.by_token(session, token_digest(token), utcnow())
    if account is None or account.disabled:
        raise Unauthenticated("token is unknown or expired; log in again", name="auth.bad_token")
    return await actor_for_account(session, account, node_prefix)


async def actor_for_handle_credentials(session: AsyncSession, username: str, secret: str,
                                       node_prefix: str) -> Actor:
    """Handle Basic auth: ``index:handle`` (URL-encoded or not) and the secret held in its HS_SECKEY."""
    username = unquote(username)
    index_text, _, handle = username.partition(":")
    if not index_text.isdigit() or not handle:
        raise Unauthenticated("username must be index:handle, e.g. 300:88.118.1042/admin",
                              name="auth.bad_username")
    index = int(index_text)
    record = await handles.get(session, canonical(handle))
    stored = None
    if record is not None and not record.deleted:
        stored = next((v["data"]["value"] for v in record.record_values
                       if v["index"] == index and v["type"] == "HS_SECKEY"), None)
    identity = identity_key(index, handle)
    if stored is None or not _check_secret_cached(identity, secret, stored):
        raise Unauthenticated("authentication failed for " + username, name="auth.bad_credentials")
    is_admin = identity == node_admin_identity(node_prefix)
    return Actor(name=f"{index}:{handle}", identities=frozenset({identity}), is_node_admin=is_admin)
