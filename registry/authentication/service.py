"""Who is acting: the actor of a business bearer token (login, API key or signed challenge), of an account, and of
a Handle identity authenticated by HS_SECKEY (Basic auth, with lockout) or by key."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.crypto.handle_mac import answer_matches, handle_net_hashed
from foundation.crypto.keys import token_digest, verify_secret
from foundation.crypto.secret_seal import SecretSeal
from foundation.db import Database
from foundation.text import is_decimal
from registry.accounts import repository
from registry.accounts.errors import AccountLocked, BadCredentials
from registry.accounts.models import Account, SecretLockout
from registry.accounts.service import API_KEY_PREFIX, NODE_ADMIN_ROLE
from registry.authentication import keyauth
from registry.authentication.errors import BadApiKey, BadToken, BadUsername, SecretNotSealed
from registry.kernel import records as handles
from registry.kernel.actor import ENTERPRISE_ADMIN, NODE_ADMIN, REGISTRAR, Actor
from registry.kernel.clock import as_utc, utcnow
from registry.kernel.permissions import identity_key
from registry.kernel.syntax import canonical, na_handle
from registry.kernel.values import Value
from registry.prefixes import repository as prefixes
from registry.prefixes.states import PrefixState

# Successful secret checks, remembered briefly so Basic auth does not pay scrypt on every request.
# Keyed by a digest of (identity, client address, secret, stored hash): a changed secret never matches an old entry,
# and a secret verified for one address is no shortcut past the lock of another.
_VERIFIED: dict[str, float] = {}
_VERIFIED_TTL = 60.0
# (identity, address) for which this worker counted a wrong secret: their next success, even one answered from
# _VERIFIED, reads the lock (refused while it holds) and clears the count. Others' cached successes touch no table.
_COUNTED: set[tuple[str, str]] = set()


def _verification_key(identity: str, source: str, secret: str, stored: str) -> str:
    return hashlib.sha256(f"{identity}\0{source}\0{secret}\0{stored}".encode()).hexdigest()


def _recently_verified(key: str) -> bool:
    return _VERIFIED.get(key, 0.0) > time.monotonic()


def _remember_verified(key: str) -> None:
    if len(_VERIFIED) > 10_000:
        _VERIFIED.clear()
    _VERIFIED[key] = time.monotonic() + _VERIFIED_TTL


def _remember_counted(subject: tuple[str, str]) -> None:
    if len(_COUNTED) > 10_000:  # forgotten counts are cleared by the next success that is not answered from memory
        _COUNTED.clear()
    _COUNTED.add(subject)


def node_admin_identity(node_prefix: str) -> str:
    return identity_key(300, na_handle(node_prefix))


async def _enterprise_identities(session: AsyncSession, enterprise_id: int | None) -> frozenset[str]:
    """The ``<prefix>/admin`` identities of an enterprise's enabled prefixes: what its users act as."""
    identities: set[str] = set()
    if enterprise_id is not None:
        for prefix in await prefixes.of_enterprise(session, enterprise_id):
            if prefix.state == PrefixState.ENABLED:
                identities.add(identity_key(300, f"{prefix.prefix}/admin"))
    return frozenset(identities)


async def actor_for_account(session: AsyncSession, account: Account, node_prefix: str) -> Actor:
    if account.role == NODE_ADMIN_ROLE:
        return Actor(
            name=f"user:{account.username}",
            identities=frozenset({node_admin_identity(node_prefix)}),
            is_node_admin=True,
            role=NODE_ADMIN,
        )
    return Actor(
        name=f"user:{account.username}",
        identities=await _enterprise_identities(session, account.enterprise_id),
        enterprise_id=account.enterprise_id,
        role=account.role,
    )


async def actor_for_identity(session: AsyncSession, identity: str, node_prefix: str) -> Actor:
    """A Handle identity, authenticated by secret or key; what it may write is bounded by the HS_ADMIN values of
    each record. The administrator identity of an enabled prefix (``300:88.118.1042/admin``) also acts for the
    enterprise owning it, as its administrator. Any other identity acts for nobody: records of one enterprise may
    name identities of others, and a name under a prefix says nothing about who holds its key."""
    if identity == node_admin_identity(node_prefix):
        return Actor(name=identity, identities=frozenset({identity}), is_node_admin=True, role=NODE_ADMIN)
    index, _, handle = identity.partition(":")
    prefix_key, _, suffix = handle.partition("/")
    if index == "300" and suffix == "admin":
        prefix = await prefixes.get(session, prefix_key)
        if prefix is not None and prefix.state == PrefixState.ENABLED:
            return Actor(
                name=identity,
                identities=frozenset({identity}),
                enterprise_id=prefix.enterprise_id,
                role=ENTERPRISE_ADMIN,
            )
    return Actor(name=identity, identities=frozenset({identity}), role=REGISTRAR)


async def actor_for_token(session: AsyncSession, token: str, node_prefix: str) -> Actor:
    """A business bearer token: an API key, a login's token, or the token a signed challenge gave."""
    if token.startswith(API_KEY_PREFIX):
        key = await repository.api_key_by_digest(session, token_digest(token), utcnow())
        if key is None:
            raise BadApiKey()
        return Actor(
            name=f"key:{key.name}#{key.id}",
            identities=await _enterprise_identities(session, key.enterprise_id),
            enterprise_id=key.enterprise_id,
            role=key.role,
        )
    account = await repository.by_token(session, token_digest(token), utcnow())
    if account is not None and not account.disabled:
        return await actor_for_account(session, account, node_prefix)
    identity = await keyauth.identity_of_token(session, token)
    if identity is not None:
        return await actor_for_identity(session, identity, node_prefix)
    raise BadToken()


async def check_handle_secret(
    db: Database, username: str, secret: str, *, source: str, max_failures: int, lockout_seconds: int
) -> str:
    """Handle Basic auth: ``index:handle`` (URL-encoded or not) and the secret held in its HS_SECKEY; returns the
    identity. Checked in sessions of its own, before the request's has begun, so that a wrong secret stays counted
    whatever becomes of the request. ``max_failures`` wrong secrets in a row from one client address (``source``)
    lock the identity for that address for ``lockout_seconds``; other addresses go on (docs/security.md, "Limits").
    Every success from the address clears its count. A secret this worker verified for this address in the last
    minute is not checked again, so the lock stops guessing, not a client already holding the secret."""
    username = unquote(username)
    index_text, _, handle = username.partition(":")
    if not is_decimal(index_text) or not handle:
        raise BadUsername()
    index = int(index_text)
    identity = identity_key(index, handle)
    source = source[:64]
    subject = (identity, source)
    refused = BadCredentials("authentication failed for " + username)
    async with db.primary_read_session() as session:
        stored = next((v["data"]["value"] for v in await _secrets(session, handle, index)), None)
        if stored is None:
            raise refused
        key = _verification_key(identity, source, secret, stored)
        verified = _recently_verified(key)
        if verified and subject not in _COUNTED:
            return identity
        lockout = await repository.secret_lockout(session, identity, source)
    _refuse_while_locked(lockout, identity, source, max_failures)
    if not verified and not verify_secret(secret, stored):
        await _count_wrong(db, identity, source, max_failures, lockout_seconds)
        raise refused
    _remember_verified(key)
    await _clear_count(db, lockout, identity, source)
    return identity


async def check_secret_answer(
    db: Database,
    seal: SecretSeal | None,
    handle: str,
    index: int,
    data: bytes,
    answer: bytes,
    *,
    legacy: bool,
    source: str,
    max_failures: int,
    lockout_seconds: int,
) -> str:
    """The Handle protocol's secret-key answer to a challenge (``data`` = nonce ‖ request digest), checked against
    the identity's sealed HS_SECKEY (all of them when ``index`` is 0, as Handle.Net does) in its plain and
    Handle.Net-hashed forms; returns the identity. Wrong answers count towards the same lock as Basic auth."""
    identity = identity_key(index, handle)
    source = source[:64]
    async with db.primary_read_session() as session:
        values = await _secrets(session, handle, index)
        lockout = await repository.secret_lockout(session, identity, source)
    _refuse_while_locked(lockout, identity, source, max_failures)
    for value in values:
        secret = seal.open(value["data"].get("sealed")) if seal is not None else None
        if secret is None:
            continue
        if any(answer_matches(k, data, answer, legacy=legacy) for k in (secret, handle_net_hashed(secret))):
            await _clear_count(db, lockout, identity, source)
            return identity_key(value["index"], handle)
    await _count_wrong(db, identity, source, max_failures, lockout_seconds)
    if values and all(seal is None or seal.open(v["data"].get("sealed")) is None for v in values):
        raise SecretNotSealed(f"{index}:{handle}")
    raise BadCredentials(f"authentication failed for {index}:{handle}")


async def _secrets(session: AsyncSession, handle: str, index: int) -> list[Value]:
    """The identity's HS_SECKEY values: the one at ``index``, or every one when ``index`` is 0."""
    record = await handles.get(session, canonical(handle))
    if record is None or record.deleted:
        return []
    return [v for v in record.record_values if v["type"] == "HS_SECKEY" and index in (0, v["index"])]


def _refuse_while_locked(lockout: SecretLockout | None, identity: str, source: str, max_failures: int) -> None:
    if lockout is not None and lockout.locked_until is not None and as_utc(lockout.locked_until) > utcnow():
        raise AccountLocked(
            f"{identity} is locked for {source} after {max_failures} wrong secrets until "
            f"{as_utc(lockout.locked_until).isoformat()}"
        )


async def _count_wrong(db: Database, identity: str, source: str, max_failures: int, lockout_seconds: int) -> None:
    async with db.unit_of_work() as own:
        await repository.count_wrong_secret(
            own, identity, source, max_failures, utcnow() + timedelta(seconds=lockout_seconds)
        )
    _remember_counted((identity, source))


async def _clear_count(db: Database, lockout: SecretLockout | None, identity: str, source: str) -> None:
    if lockout is not None:
        async with db.unit_of_work() as own:
            await repository.clear_secret_lockout(own, identity, source)
    _COUNTED.discard((identity, source))
