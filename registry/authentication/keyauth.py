"""Public-key authentication: Handle.Net v9 sessions and the business face's challenge-response tokens.

Session: ``POST /api/sessions`` gives a session id and a server nonce; the client signs server nonce ‖ client nonce
with the private key of an ``HS_PUBKEY`` value of its identity; the session is then authenticated as that identity
until it expires or is deleted. Challenge: the node gives a nonce for one identity; the signature of the nonce
returns a short-lived bearer token. A client nonce is accepted once per session and a challenge once at all, so a
captured signature cannot be replayed. Only digests of session ids, challenges and tokens are stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.crypto.keys import new_token, token_digest
from foundation.crypto.pubkeys import b64decode_any, load_public_key
from foundation.text import is_decimal
from registry.accounts.models import KeySession
from registry.authentication.errors import (
    BadIdentity,
    BadSignature,
    ChallengeUnknown,
    NonceReplayed,
    SessionUnknown,
    SessionUsedUp,
    TooManyOpenSessions,
)
from registry.kernel import records as handles
from registry.kernel.clock import utcnow
from registry.kernel.permissions import identity_key
from registry.kernel.syntax import canonical

SESSION, CHALLENGE, TOKEN = "session", "challenge", "token"
MAX_IDENTITY = 300  # characters of index:handle, as stored
CHALLENGE_TTL = timedelta(seconds=120)
MAX_CNONCES = 64  # authentications per session, each with a client nonce of its own; then a new session


def _new_nonce() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_identity(text: str) -> tuple[int, str]:
    """``300:88.118.1042/admin`` -> (300, handle)."""
    index_text, _, handle = text.partition(":")
    if len(text) > MAX_IDENTITY or not is_decimal(index_text) or not handle or int(index_text) > 2**32 - 1:
        raise BadIdentity()
    return int(index_text), handle


def _decode(text: str | None, what: str) -> bytes:
    try:
        raw = b64decode_any(text or "")
    except (binascii.Error, ValueError):
        raise BadSignature(f"{what} is not base64") from None
    if not raw:
        raise BadSignature(f"{what} is missing")
    return raw


async def verify_signature(
    session: AsyncSession, identity: str, message: bytes, signature: bytes, alg: str | None
) -> str:
    """The canonical identity whose HS_PUBKEY verifies ``signature`` over ``message``; else Unauthenticated."""
    index, handle = parse_identity(identity)
    record = await handles.get(session, canonical(handle))
    keys = []
    if record is not None and not record.deleted:
        keys = [v["data"]["value"] for v in record.record_values if v["index"] == index and v["type"] == "HS_PUBKEY"]
    for raw in keys:
        try:
            if load_public_key(raw).verify(signature, message, alg):
                return identity_key(index, handle)
        except ValueError:  # a stored key no longer readable: the others may still verify
            continue
    raise BadSignature(f"the signature does not verify with the HS_PUBKEY of {identity}")


async def _row(session: AsyncSession, secret: str, kind: str, *, for_update: bool = False) -> KeySession | None:
    query = select(KeySession).where(
        KeySession.digest == token_digest(secret), KeySession.kind == kind, KeySession.expires_at > utcnow()
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def _make_room(session: AsyncSession, max_open: int) -> None:
    """Drop what expired; refuse a new session or challenge while ``max_open`` are open. Anyone may open them
    without credentials: this bounds the rows a crowd of addresses, each within its own budget, can make."""
    await session.execute(delete(KeySession).where(KeySession.expires_at <= utcnow()))
    open_now = (
        await session.execute(
            select(func.count()).select_from(KeySession).where(KeySession.kind.in_((SESSION, CHALLENGE)))
        )
    ).scalar_one()
    if open_now >= max_open:
        raise TooManyOpenSessions(open_now, retry_after=60)


# ---- Handle sessions ----------------------------------------------------------------------------------------------


async def open_session(session: AsyncSession, ttl_seconds: int, max_open: int) -> tuple[str, str]:
    """A new session: (session id, server nonce)."""
    session_id, nonce, now = new_token(), _new_nonce(), utcnow()
    await _make_room(session, max_open)
    session.add(
        KeySession(
            digest=token_digest(session_id),
            kind=SESSION,
            nonce=nonce,
            identity=None,
            used_cnonces=[],
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    await session.flush()
    return session_id, nonce


async def session_state(session: AsyncSession, session_id: str, *, for_update: bool = False) -> KeySession:
    row = await _row(session, session_id, SESSION, for_update=for_update)
    if row is None:
        raise SessionUnknown("the session is unknown or expired; POST /api/sessions for a new one")
    return row


async def authenticate_session(
    session: AsyncSession, session_id: str, identity: str, cnonce: str, signature: str, alg: str | None
) -> KeySession:
    """Check a signature of server nonce ‖ client nonce; the session then acts as ``identity``."""
    row = await session_state(session, session_id, for_update=True)
    client_nonce = _decode(cnonce, "cnonce")
    digest = hashlib.sha256(client_nonce).hexdigest()  # of the bytes: another spelling of them is no new nonce
    if digest in row.used_cnonces:
        raise NonceReplayed()
    if len(row.used_cnonces) >= MAX_CNONCES:
        raise SessionUsedUp(MAX_CNONCES)
    message = _decode(row.nonce, "nonce") + client_nonce
    row.identity = await verify_signature(session, identity, message, _decode(signature, "signature"), alg)
    row.used_cnonces = [*row.used_cnonces, digest]
    await session.flush()
    return row


async def end_session(session: AsyncSession, session_id: str) -> bool:
    result = await session.execute(
        delete(KeySession).where(KeySession.digest == token_digest(session_id), KeySession.kind == SESSION)
    )
    return bool(cast("CursorResult[Any]", result).rowcount)  # a DELETE's result is a CursorResult


async def identity_of_session(session: AsyncSession, session_id: str) -> str | None:
    """The identity an authenticated session acts as; None when it is not (yet) authenticated."""
    return (await session_state(session, session_id)).identity


# ---- challenge-response tokens ------------------------------------------------------------------------------------


async def open_challenge(session: AsyncSession, identity: str, max_open: int) -> tuple[str, int]:
    """A nonce for ``identity`` to sign: (nonce, lifetime in seconds). Issued whether the identity exists or not, so
    challenges reveal nothing."""
    index, handle = parse_identity(identity)
    nonce, now = _new_nonce(), utcnow()
    await _make_room(session, max_open)
    session.add(
        KeySession(
            digest=token_digest(nonce),
            kind=CHALLENGE,
            nonce=nonce,
            identity=identity_key(index, handle),
            used_cnonces=[],
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
    )
    await session.flush()
    return nonce, int(CHALLENGE_TTL.total_seconds())


async def consume_challenge(session: AsyncSession, identity: str, nonce: str) -> None:
    """Use up a challenge before its answer is checked (in a transaction of its own, so that a wrong answer uses
    it up too: one guess per challenge)."""
    index, handle = parse_identity(identity)
    row = await _row(session, nonce, CHALLENGE, for_update=True)
    if row is None or row.identity != identity_key(index, handle):
        raise ChallengeUnknown()
    await session.delete(row)
    await session.flush()


async def answer_challenge(
    session: AsyncSession, identity: str, nonce: str, signature: str, alg: str | None, ttl_seconds: int
) -> tuple[str, str]:
    """Check the signature of a consumed challenge nonce; returns (bearer token, identity)."""
    verified = await verify_signature(session, identity, _decode(nonce, "nonce"), _decode(signature, "signature"), alg)
    token, now = new_token(), utcnow()
    session.add(
        KeySession(
            digest=token_digest(token),
            kind=TOKEN,
            nonce="",
            identity=verified,
            used_cnonces=[],
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    await session.flush()
    return token, verified


async def identity_of_token(session: AsyncSession, token: str) -> str | None:
    row = await _row(session, token, TOKEN)
    return row.identity if row is not None else None
