"""Checking deposits and rebuilding a node from them (``secnode escrow verify`` and ``restore``).

A directory of deposits is read as one chain: every file's signature and structure is checked, the latest full
deposit is taken, and the incremental ones must follow it one by one — each names the one before it (``prevId``)
and starts at the journal number where it ended. Anything that does not follow is a gap and is refused before the
first row is written. The restore itself runs in one transaction on an empty database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.db import Database
from registry.accounts.models import ReadGrant
from registry.enterprises.models import Enterprise
from registry.journal import repository as journal
from registry.kernel import records, value_index
from registry.kernel.models import HandleRecord
from registry.kernel.syntax import canonical
from registry.prefixes.models import Prefix
from registry.templates.models import Template, TemplateItem
from sync.errors import EscrowGap, EscrowInvalid, EscrowRestoreRefused
from sync.escrow import deposit as deposits
from sync.escrow import signature
from sync.escrow.deposit import FULL, INCR, DepositInfo
from sync.escrow.signature import sig_path_of

BATCH = 1000


@dataclass(frozen=True)
class Checked:
    path: Path
    info: DepositInfo


def check_file(xml_path: Path, public_key: Ed25519PublicKey) -> DepositInfo:
    """The deposit in ``xml_path`` when its ``.sig`` verifies and its structure and counts hold."""
    sig_path = sig_path_of(xml_path)
    if not sig_path.is_file():
        raise EscrowInvalid(f"{xml_path.name} has no signature file {sig_path.name} beside it")
    with open(xml_path, "rb") as handle:
        signature.check(signature.file_digest(handle), sig_path.read_bytes(), public_key)
        handle.seek(0)
        return deposits.summary(handle)


def chain(directory: Path, public_key: Ed25519PublicKey) -> list[Checked]:
    """The latest full deposit in ``directory`` and every incremental one after it, in order."""
    found: dict[str, Checked] = {}
    for path in sorted(directory.glob("*.xml")):
        info = check_file(path, public_key)
        known = found.get(info.deposit_id)
        if known is None or info.resend > known.info.resend:  # a deposit sent again: the same content
            found[info.deposit_id] = Checked(path, info)
    nodes = {c.info.node_prefix for c in found.values()}
    if len(nodes) > 1:
        raise EscrowInvalid(f"the deposits belong to several nodes: {', '.join(sorted(nodes))}")
    fulls = sorted((c for c in found.values() if c.info.kind == FULL), key=lambda c: (c.info.to_seq, c.info.watermark))
    if not fulls:
        raise EscrowGap(f"no full deposit in {directory}")
    ordered = [fulls[-1]]
    following = {c.info.prev_id: c for c in found.values() if c.info.kind == INCR}
    while (step := following.pop(ordered[-1].info.deposit_id, None)) is not None:
        if step.info.from_seq != ordered[-1].info.to_seq:
            raise EscrowGap(
                f"{step.info.deposit_id} starts after journal number {step.info.from_seq}, but "
                f"{ordered[-1].info.deposit_id} ended at {ordered[-1].info.to_seq}"
            )
        ordered.append(step)
    base = ordered[0].info.to_seq
    stray = sorted(c.info.deposit_id for c in following.values() if c.info.to_seq > base)
    if stray:
        raise EscrowGap(
            f"{', '.join(stray)} do not follow the chain from {ordered[0].info.deposit_id}: a deposit is missing"
        )
    return ordered


@dataclass
class Restored:
    deposits: list[str] = field(default_factory=list)
    enterprises: int = 0
    prefixes: int = 0
    templates: int = 0
    identifiers: int = 0
    deleted: int = 0
    journal_seq: int = 0


async def _is_empty(session: AsyncSession) -> bool:
    for model in (Enterprise, Prefix, Template, HandleRecord):
        if (await session.execute(select(func.count()).select_from(model))).scalar_one():
            return False
    return True


def _when(text_value: str | None) -> datetime | None:
    return None if text_value is None else datetime.fromisoformat(text_value)


async def _remove_records(session: AsyncSession, keys: list[str]) -> None:
    await session.execute(delete(ReadGrant).where(ReadGrant.handle_key.in_(keys)))
    await value_index.write(session, keys, [])
    await session.execute(delete(HandleRecord).where(HandleRecord.handle_key.in_(keys)))


async def _put_records(session: AsyncSession, batch: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    rows, grants = [], []
    for row, readers in batch:
        key = canonical(row["handle"])
        rows.append(
            {
                **row,
                "handle_key": key,
                "prefix_key": key.partition("/")[0],
                "deleted": False,
                "created_at": _when(row["created_at"]),
                "updated_at": _when(row["updated_at"]),
            }
        )
        grants += [{**r, "handle_key": key, "granted_at": _when(r["granted_at"])} for r in readers]
    await _remove_records(session, [r["handle_key"] for r in rows])
    await records.insert_new(session, rows)
    if grants:
        await session.execute(insert(ReadGrant), grants)


async def _delete_records(session: AsyncSession, handles: Iterable[tuple[str, int | None]]) -> int:
    """Deleted identifiers stay as the node keeps them: a row marked deleted (no values), which a later create
    finds as it would on the node that made the deposit."""
    tombstones = []
    for handle, version in handles:
        key = canonical(handle)
        existing = await session.get(HandleRecord, key)
        created_at = existing.created_at if existing is not None else None
        created_by = existing.created_by if existing is not None else "escrow"
        tombstones.append((key, handle, version or (existing.version if existing else 1), created_at, created_by))
    if not tombstones:
        return 0
    await _remove_records(session, [t[0] for t in tombstones])
    now = datetime.now().astimezone()
    await records.insert_new(
        session,
        [
            {
                "handle_key": key,
                "handle": handle,
                "prefix_key": key.partition("/")[0],
                "version": version,
                "deleted": True,
                "record_values": [],
                "template_key": None,
                "created_at": created_at or now,
                "created_by": created_by,
                "updated_at": now,
                "updated_by": "escrow",
            }
            for key, handle, version, created_at, created_by in tombstones
        ],
    )
    return len(tombstones)


def _enterprise(row: dict[str, Any]) -> Enterprise:
    return Enterprise(**{**row, "created_at": _when(row["created_at"]), "updated_at": _when(row["updated_at"])})


def _prefix(row: dict[str, Any]) -> Prefix:
    return Prefix(
        **{
            **row,
            "prefix_key": canonical(row["prefix"]),
            "created_at": _when(row["created_at"]),
            "updated_at": _when(row["updated_at"]),
        }
    )


async def _put_template(session: AsyncSession, row: dict[str, Any], items: list[dict[str, Any]]) -> None:
    prefix_key = canonical(row["prefix"])
    await _delete_templates(session, [(prefix_key, row["version"])])
    template = Template(
        **{
            **row,
            "prefix_key": prefix_key,
            "created_at": _when(row["created_at"]),
            "updated_at": _when(row["updated_at"]),
        }
    )
    session.add(template)
    await session.flush()
    session.add_all([TemplateItem(template_id=template.id, **item) for item in items])
    await session.flush()


async def _delete_templates(session: AsyncSession, keys: list[tuple[str, str]]) -> None:
    for prefix_key, version in keys:
        found = await session.execute(
            select(Template.id).where(Template.prefix_key == canonical(prefix_key), Template.version == version)
        )
        ids = list(found.scalars())
        if ids:
            await session.execute(delete(TemplateItem).where(TemplateItem.template_id.in_(ids)))
            await session.execute(delete(Template).where(Template.id.in_(ids)))


async def _apply(session: AsyncSession, checked: Checked, restored: Restored) -> None:
    batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    with open(checked.path, "rb") as handle:
        for kind, value in deposits.events(handle):
            if kind == "deletes":
                restored.deleted += await _delete_records(session, value["handles"])
                await _delete_templates(session, value["templates"])
                await session.execute(
                    delete(Prefix).where(Prefix.prefix_key.in_([canonical(p) for p in value["prefixes"]]))
                )
                await session.execute(delete(Enterprise).where(Enterprise.id.in_(value["enterprises"])))
            elif kind == "enterprise":
                await session.merge(_enterprise(value))
                await session.flush()
                restored.enterprises += 1
            elif kind == "prefix":
                await session.merge(_prefix(value))
                await session.flush()
                restored.prefixes += 1
            elif kind == "template":
                await _put_template(session, *value)
                restored.templates += 1
            elif kind == "identifier":
                batch.append(value)
                restored.identifiers += 1
                if len(batch) >= BATCH:
                    await _put_records(session, batch)
                    batch = []
    if batch:
        await _put_records(session, batch)
    restored.deposits.append(checked.info.deposit_id)
    restored.journal_seq = checked.info.to_seq


async def restore(db: Database, ordered: list[Checked]) -> Restored:
    """Rebuild an empty node's registration data from a checked chain (see :func:`chain`), in one transaction.
    Refused (nothing written) when the database holds any enterprise, prefix or identifier."""
    restored = Restored()
    async with db.unit_of_work() as session:
        if not await _is_empty(session):
            raise EscrowRestoreRefused(
                "the database already holds registration data (enterprises, prefixes, templates or identifiers): "
                "restore into an empty one"
            )
        for checked in ordered:
            await _apply(session, checked, restored)
        if db.dialect == "postgresql":  # new enterprises are numbered after the restored ones
            await session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('enterprises', 'id'), "
                    "GREATEST((SELECT coalesce(max(id), 0) FROM enterprises), 1))"
                )
            )
        # the journal goes on after the deposits' numbers, as the top-level node and the escrow chain know them
        await journal.advance_past(session, restored.journal_seq)
    return restored
