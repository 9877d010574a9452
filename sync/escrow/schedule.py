"""The escrow schedule inside ``secnode serve`` (``SECNODE_ESCROW_ENABLED``): a full deposit every
``escrow_full_days``, an incremental one every ``escrow_incremental_hours`` in between, and every deposit sent to each
destination until received. One process per node does it at a time (a PostgreSQL advisory lock per round)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from foundation.config import Settings
from foundation.crypto.keys import load_signing_key
from foundation.db import Database
from registry.audit import chain
from registry.journal.models import EscrowDeposit
from registry.kernel.clock import utcnow
from sync.background import node_role
from sync.errors import ReporterBusy, SyncError
from sync.escrow.deposit import FULL, INCR
from sync.escrow.depositor import Written, make_deposit
from sync.escrow.transfer import GAP, send_pending

log = logging.getLogger("secnode.escrow")
ESCROW_LOCK_ID = 0x5EC0DE_0E5C  # the others: 0001 journal, 0002 reporter, 0003 audit, 0004 prefix codes
ESCROW_ACTOR = "system:escrow"


async def due(db: Database, settings: Settings) -> str | None:
    """The kind of deposit due now: FULL with none yet, when the last full one is ``escrow_full_days`` old, or when
    a destination found a gap; INCR when the last deposit is ``escrow_incremental_hours`` old; else None."""
    async with db.unit_of_work() as session:
        rows = (await session.execute(select(EscrowDeposit).order_by(EscrowDeposit.created_at))).scalars().all()
    fulls = [r for r in rows if r.kind == FULL]
    if not fulls:
        return FULL
    now = utcnow()
    latest_full = fulls[-1]
    if now - latest_full.created_at >= timedelta(days=settings.escrow_full_days):
        return FULL
    after_full = [r for r in rows if r.created_at >= latest_full.created_at]
    if any(state.get("state") == GAP for r in after_full for state in r.destinations.values()):
        return FULL
    if now - rows[-1].created_at >= timedelta(hours=settings.escrow_incremental_hours):
        return INCR
    return None


async def audit(db: Database, settings: Settings, action: str, result: int = 0) -> None:
    async with db.unit_of_work() as session:
        await chain.append(
            session, actor=ESCROW_ACTOR, action=action, source="local", result=result, algorithm=settings.audit_hash
        )


async def deposit_and_audit(
    db: Database, settings: Settings, key: Ed25519PrivateKey, kind: str, directory: str, actor: str = ESCROW_ACTOR
) -> Written:
    written = await make_deposit(db, settings, key, kind, directory)
    async with db.unit_of_work() as session:
        await chain.append(
            session,
            actor=actor,
            action=f"ESCROW deposit {kind} {written.info.deposit_id} journal {written.info.to_seq}",
            source="local",
            result=0,
            algorithm=settings.audit_hash,
        )
    return written


async def run_once(db: Database, settings: Settings, key: Ed25519PrivateKey) -> Written | None:
    """One round: make the deposit that is due (if any), then send what is owed. Busy elsewhere: nothing."""
    try:
        async with node_role(db, settings, ESCROW_LOCK_ID, wait=False, busy="another process is depositing"):
            kind = await due(db, settings)
            written = await deposit_and_audit(db, settings, key, kind, settings.escrow_directory) if kind else None
            sent = await send_pending(db, settings, key)
    except ReporterBusy:
        return None
    for destination, count in sent.items():
        if count:
            await audit(db, settings, f"ESCROW sent {count} deposits to {destination}")
    return written


async def run_escrow(db: Database, settings: Settings) -> None:
    """Forever: a round every ``escrow_check_seconds``; a failed round is logged and tried again at the next."""
    key = load_signing_key(settings.node_key_file)
    while True:
        try:
            await run_once(db, settings, key)
        except (SyncError, OSError) as exc:
            log.warning("secnode.escrow.round_failed error=%s", exc)
        except Exception:  # noqa: BLE001 - the database may be away for a while: the next round tries again
            log.exception("secnode.escrow.round_failed")
        await asyncio.sleep(settings.escrow_check_seconds)
