"""Prefix allocation and lifecycle (SNMS states), with the NA handle and administrator identity of each prefix."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.crypto.keys import hash_secret
from foundation.crypto.passwords import check_password_strength
from foundation.db import RecordChange, note_record_change
from foundation.text import is_decimal
from registry.accounts.models import Account
from registry.enterprises import repository as enterprises
from registry.enterprises.errors import EnterpriseNotApproved, EnterpriseNotFound
from registry.enterprises.states import EnterpriseState
from registry.journal import repository as journal
from registry.kernel import records as handles
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.kernel.permissions import ENTERPRISE_ADMIN_PERMISSIONS
from registry.kernel.syntax import canonical, check_prefix, na_handle
from registry.kernel.values import ADMIN_INDEX, SECKEY_INDEX, VLIST_INDEX, Value
from registry.prefixes import repository
from registry.prefixes.errors import (
    EnterpriseRequired,
    PasswordRequired,
    PrefixBadTransition,
    PrefixCodeInvalid,
    PrefixForbidden,
    PrefixNotEmpty,
    PrefixNotFound,
    PrefixTaken,
)
from registry.prefixes.models import Prefix
from registry.prefixes.states import LABELS, TRANSITIONS, PrefixState

FIRST_CODE = 1001


def prefix_out(prefix: Prefix) -> dict[str, Any]:
    return {
        "prefix": prefix.prefix,
        "code": prefix.code,
        "enterpriseId": prefix.enterprise_id,
        "state": prefix.state,
        "stateName": LABELS[PrefixState(prefix.state)],
        "reason": prefix.reason,
        "createdAt": prefix.created_at.isoformat(),
        "updatedAt": prefix.updated_at.isoformat(),
    }


def _move(prefix: Prefix, target: PrefixState) -> None:
    current = PrefixState(prefix.state)
    if target not in TRANSITIONS[current]:
        raise PrefixBadTransition(
            f"prefix {prefix.prefix} is {LABELS[current]} (state {current.value}); it cannot become {LABELS[target]}"
        )
    prefix.state = target.value
    prefix.updated_at = utcnow()


async def _locked(session: AsyncSession, prefix: str) -> Prefix:
    found = await repository.get(session, canonical(prefix), for_update=True)
    if found is None or found.state == PrefixState.DELETED:
        raise PrefixNotFound(prefix)
    return found


def _owner_or_admin(actor: Actor, prefix: Prefix) -> None:
    if not actor.is_node_admin and actor.enterprise_id != prefix.enterprise_id:
        raise PrefixForbidden(f"prefix {prefix.prefix} belongs to another enterprise")


# Transaction advisory lock taken while the next free code is chosen (0001 is the journal's, 0002 the reporter's,
# 0003 the audit log's): two enterprises applying at once get two codes.
NEXT_CODE_LOCK_ID = 0x5EC0DE_0004


async def _next_code(session: AsyncSession) -> str:
    numbers = [int(code) for code in await repository.numeric_codes(session) if is_decimal(code)]
    return str(max([FIRST_CODE - 1, *numbers]) + 1)


async def apply(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    enterprise_id: int | None,
    code: str | None,
    admin_password: str | None,
    account: Account | None = None,
) -> Prefix:
    """An enterprise applies for a prefix under the node prefix (next free code, or the code it asks for)."""
    if admin_password:
        check_password_strength(admin_password, "")
    if enterprise_id is None:
        enterprise_id = actor.enterprise_id
    if enterprise_id is None:
        raise EnterpriseRequired()
    if not actor.is_node_admin and actor.enterprise_id != enterprise_id:
        raise PrefixForbidden("an enterprise applies for prefixes only for itself")
    actor.require_admin("applying for prefixes")
    enterprise = await enterprises.get(session, enterprise_id, for_update=True)
    if enterprise is None:
        raise EnterpriseNotFound(f"enterprise {enterprise_id} does not exist")
    if enterprise.state != EnterpriseState.APPROVED:
        raise EnterpriseNotApproved(
            f"enterprise {enterprise_id} is {enterprise.state}; only approved enterprises get prefixes"
        )
    if code is None:
        if session.get_bind().dialect.name == "postgresql":  # SQLite has one writer at a time already
            await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": NEXT_CODE_LOCK_ID})
        code = await _next_code(session)
    if not code.isascii() or not code.isalnum() or len(code) > 32:
        raise PrefixCodeInvalid()
    full = f"{settings.node_prefix}.{code}"
    check_prefix(full)
    secret_hash = hash_secret(admin_password) if admin_password else (account.password_hash if account else None)
    if secret_hash is None:
        raise PasswordRequired()
    now = utcnow()
    existing = await repository.get(session, canonical(full), for_update=True)
    if existing is not None:
        if existing.state != PrefixState.REJECTED:
            raise PrefixTaken(full)
        _move(existing, PrefixState.AWAITING_AUDIT)
        existing.enterprise_id, existing.pending_secret_hash, existing.reason = enterprise_id, secret_hash, None
        prefix = existing
    else:
        prefix = Prefix(
            prefix_key=canonical(full),
            prefix=full,
            code=code,
            enterprise_id=enterprise_id,
            state=PrefixState.AWAITING_AUDIT,
            pending_secret_hash=secret_hash,
            created_at=now,
            updated_at=now,
        )
        session.add(prefix)
    try:
        await session.flush()
    except IntegrityError:  # the same code applied for by another enterprise in a concurrent transaction
        raise PrefixTaken(full) from None
    await journal.append(
        session,
        [
            journal.entry(
                "prefix.applied",
                full,
                prefix.prefix_key,
                actor.name,
                enterprise=enterprise_id,
                creditCode=enterprise.credit_code,
            )
        ],
    )
    return prefix


async def audit(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    prefix_text: str,
    *,
    approve: bool,
    reason: str | None,
    upstream: bool = False,
) -> Prefix:
    """The node administrator's decision. Without an upstream, approval enables the prefix at once."""
    if not actor.is_node_admin:
        raise PrefixForbidden("only the node administrator audits prefixes")
    prefix = await _locked(session, prefix_text)
    if prefix.state != PrefixState.AWAITING_AUDIT:
        raise PrefixBadTransition(
            f"prefix {prefix.prefix} is {LABELS[PrefixState(prefix.state)]}; only applications "
            "awaiting audit are audited"
        )
    if not approve:
        _move(prefix, PrefixState.REJECTED)
        prefix.reason, prefix.pending_secret_hash = reason, None
        await session.flush()
        await journal.append(
            session, [journal.entry("prefix.rejected", prefix.prefix, prefix.prefix_key, actor.name, reason=reason)]
        )
        return prefix
    if upstream:
        _move(prefix, PrefixState.IN_AUDIT)
        await session.flush()
        await journal.append(
            session,
            [journal.entry("prefix.approved", prefix.prefix, prefix.prefix_key, actor.name, awaiting="upstream")],
        )
        return prefix
    return await enable(session, settings, actor, prefix)


async def enable(session: AsyncSession, settings: Settings, actor: Actor, prefix: Prefix) -> Prefix:
    """Enable a prefix; the first time, create ``0.NA/<prefix>`` and ``<prefix>/admin``."""
    first_time = prefix.state in (PrefixState.AWAITING_AUDIT, PrefixState.IN_AUDIT)
    _move(prefix, PrefixState.ENABLED)
    prefix.reason = None
    if first_time:
        await _create_identities(session, settings, actor, prefix)
        prefix.pending_secret_hash = None
    await session.flush()
    await journal.append(
        session,
        [
            journal.entry(
                "prefix.enabled",
                prefix.prefix,
                prefix.prefix_key,
                actor.name,
                enterprise=prefix.enterprise_id,
                first=first_time,
                serviceAddress=settings.node_prefix,
            )
        ],
    )
    return prefix


async def _create_identities(session: AsyncSession, settings: Settings, actor: Actor, prefix: Prefix) -> None:
    admin_handle = f"{prefix.prefix}/admin"
    stamp = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    ttl = settings.default_ttl
    na_values: list[Value] = [
        {
            "index": ADMIN_INDEX,
            "type": "HS_ADMIN",
            "ttl": ttl,
            "timestamp": stamp,
            "data": {
                "format": "admin",
                "value": {"handle": admin_handle, "index": SECKEY_INDEX, "permissions": ENTERPRISE_ADMIN_PERMISSIONS},
            },
        },
        {
            "index": VLIST_INDEX,
            "type": "HS_VLIST",
            "ttl": ttl,
            "timestamp": stamp,
            "data": {"format": "vlist", "value": [{"handle": admin_handle, "index": SECKEY_INDEX}]},
        },
    ]
    admin_values: list[Value] = [
        {
            "index": ADMIN_INDEX,
            "type": "HS_ADMIN",
            "ttl": ttl,
            "timestamp": stamp,
            "data": {
                "format": "admin",
                "value": {"handle": admin_handle, "index": SECKEY_INDEX, "permissions": ENTERPRISE_ADMIN_PERMISSIONS},
            },
        },
        {
            "index": SECKEY_INDEX,
            "type": "HS_SECKEY",
            "ttl": ttl,
            "timestamp": stamp,
            "permissions": "1100",
            "data": {"format": "string", "value": prefix.pending_secret_hash},
        },
    ]
    await write_system_record(session, actor, na_handle(prefix.prefix), na_values)
    await write_system_record(session, actor, admin_handle, admin_values)


async def write_system_record(
    session: AsyncSession, actor: Actor, handle: str, values: list[Value], *, deleted: bool = False
) -> None:
    """Create, replace or tombstone a record the node itself owns: NA handles and administrator identities."""
    key = canonical(handle)
    now = utcnow()
    prefix, _, _ = handle.partition("/")
    existing = await handles.get(session, key)
    version = 1 if existing is None else existing.version + 1
    if existing is None:
        await handles.insert_new(
            session,
            [
                {
                    "handle_key": key,
                    "handle": handle,
                    "prefix_key": canonical(prefix),
                    "version": 1,
                    "deleted": False,
                    "record_values": values,
                    "template_key": None,
                    "created_at": now,
                    "created_by": actor.name,
                    "updated_at": now,
                    "updated_by": actor.name,
                }
            ],
        )
    else:
        await handles.save_history(
            session,
            [
                {
                    "handle_key": key,
                    "version": existing.version,
                    "handle": existing.handle,
                    "deleted": existing.deleted,
                    "record_values": existing.record_values,
                    "updated_at": existing.updated_at,
                    "updated_by": existing.updated_by,
                    "superseded_at": now,
                }
            ],
        )
        await handles.update_many(
            session,
            [
                {
                    "handle_key": key,
                    "handle": handle,
                    "version": version,
                    "deleted": deleted,
                    "record_values": values,
                    "template_key": None,
                    "updated_at": now,
                    "updated_by": actor.name,
                }
            ],
        )
    note_record_change(session, RecordChange(key, version, deleted, values))
    kind = "handle.created" if existing is None else ("handle.deleted" if deleted else "handle.updated")
    await journal.append(session, [journal.entry(kind, handle, key, actor.name, version, prefix=prefix, template=None)])


async def set_enabled(
    session: AsyncSession, settings: Settings, actor: Actor, prefix_text: str, enabled: bool
) -> Prefix:
    if not actor.is_node_admin:
        raise PrefixForbidden("only the node administrator enables or disables prefixes")
    prefix = await _locked(session, prefix_text)
    if enabled:
        return await enable(session, settings, actor, prefix)
    _move(prefix, PrefixState.DISABLED)
    await session.flush()
    await journal.append(session, [journal.entry("prefix.disabled", prefix.prefix, prefix.prefix_key, actor.name)])
    return prefix


async def request_delete(session: AsyncSession, actor: Actor, prefix_text: str, *, upstream: bool = False) -> Prefix:
    """Deletion is refused while live identifiers remain (nothing is lost by a prefix deletion)."""
    prefix = await _locked(session, prefix_text)
    _owner_or_admin(actor, prefix)
    actor.require_admin("deleting prefixes")
    live = await repository.live_identifier_count(session, prefix.prefix_key)
    if live:
        raise PrefixNotEmpty(prefix.prefix, live)
    _move(prefix, PrefixState.PENDING_DELETE)
    await session.flush()
    await journal.append(
        session, [journal.entry("prefix.delete_requested", prefix.prefix, prefix.prefix_key, actor.name)]
    )
    if not upstream:
        await confirm_delete(session, actor, prefix)
    return prefix


async def confirm_delete(session: AsyncSession, actor: Actor, prefix: Prefix) -> None:
    """The prefix is gone: its NA handle and administrator identity become tombstones."""
    _move(prefix, PrefixState.DELETED)
    await session.flush()
    for handle in (na_handle(prefix.prefix), f"{prefix.prefix}/admin"):
        if await handles.get(session, canonical(handle)) is not None:
            await write_system_record(session, actor, handle, [], deleted=True)
    await journal.append(session, [journal.entry("prefix.deleted", prefix.prefix, prefix.prefix_key, actor.name)])


async def get(session: AsyncSession, actor: Actor, prefix_text: str) -> Prefix:
    prefix = await repository.get(session, canonical(prefix_text))
    if prefix is None:
        raise PrefixNotFound(prefix_text)
    _owner_or_admin(actor, prefix)
    return prefix


async def apply_upstream_decision(
    session: AsyncSession, settings: Settings, actor: Actor, prefix_text: str, *, approved: bool, reason: str | None
) -> Prefix | None:
    """The top-level node's decision on a prefix in audit (state 5). Decisions about prefixes no longer in audit
    (already applied, or withdrawn) are ignored: the top-level repeats them until it sees the outcome."""
    prefix = await repository.get(session, canonical(prefix_text), for_update=True)
    if prefix is None or prefix.state != PrefixState.IN_AUDIT:
        return None
    if approved:
        return await enable(session, settings, actor, prefix)
    _move(prefix, PrefixState.REJECTED)
    prefix.reason, prefix.pending_secret_hash = reason, None
    await session.flush()
    await journal.append(
        session,
        [journal.entry("prefix.rejected", prefix.prefix, prefix.prefix_key, actor.name, reason=reason, by="upstream")],
    )
    return prefix
