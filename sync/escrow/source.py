"""The node's registration data as deposits: a full deposit of everything live, or an incremental one of what the
change journal says changed since a journal number (ADR 0014).

Both read one consistent snapshot (REPEATABLE READ on PostgreSQL): journal numbers are taken under a lock held until
commit, so the last number visible in the snapshot covers exactly the changes whose rows it sees.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.db import Database
from registry.accounts.models import ReadGrant
from registry.enterprises.models import Enterprise
from registry.journal import repository as journal
from registry.journal.models import JournalEntry
from registry.kernel.models import HandleRecord
from registry.prefixes.models import Prefix
from registry.templates.models import Template, TemplateItem
from sync.escrow import objects
from sync.escrow.deposit import DepositWriter
from sync.escrow.objects import ENTERPRISE, IDENTIFIER, PREFIX, TEMPLATE

PAGE = 2000


@contextlib.asynccontextmanager
async def consistent_session(db: Database) -> AsyncIterator[AsyncSession]:
    """A read-only session on one snapshot of the primary."""
    async with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            await connection.execution_options(isolation_level="REPEATABLE READ")
        async with AsyncSession(bind=connection) as session, session.begin():
            yield session


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _enterprise_row(e: Enterprise) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "credit_code": e.credit_code,
        "industry": e.industry,
        "industry_code": e.industry_code,
        "contact_name": e.contact_name,
        "contact_phone": e.contact_phone,
        "contact_email": e.contact_email,
        "address": e.address,
        "state": e.state,
        "reason": e.reason,
        "created_at": _iso(e.created_at),
        "updated_at": _iso(e.updated_at),
    }


def _prefix_row(p: Prefix) -> dict[str, Any]:
    return {
        "prefix": p.prefix,
        "code": p.code,
        "enterprise_id": p.enterprise_id,
        "state": p.state,
        "pending_secret_hash": p.pending_secret_hash,
        "reason": p.reason,
        "created_at": _iso(p.created_at),
        "updated_at": _iso(p.updated_at),
    }


def _template_row(t: Template) -> dict[str, Any]:
    return {
        "prefix": t.prefix,
        "version": t.version,
        "description": t.description,
        "industry_category": t.industry_category,
        "industry_specific": t.industry_specific,
        "industry_trade": t.industry_trade,
        "industry_subclass": t.industry_subclass,
        "object_type": t.object_type,
        "created_by": t.created_by,
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
    }


async def _write_templates(session: AsyncSession, writer: DepositWriter, templates: Sequence[Template]) -> None:
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ids = [t.id for t in templates]
    query = select(TemplateItem).where(TemplateItem.template_id.in_(ids)).order_by(TemplateItem.item_index)
    for item in (await session.execute(query)).scalars():
        items[item.template_id].append(
            {
                "item_index": item.item_index,
                "name": item.name,
                "id_type": item.id_type,
                "required": item.required,
                "state": item.state,
                "item_metadata": item.item_metadata,
            }
        )
    for template in templates:
        writer.add(TEMPLATE, objects.template_xml(_template_row(template), items.get(template.id, ())))


def _record_row(r: HandleRecord) -> dict[str, Any]:
    return {
        "handle": r.handle,
        "version": r.version,
        "template_key": r.template_key,
        "created_at": _iso(r.created_at),
        "created_by": r.created_by,
        "updated_at": _iso(r.updated_at),
        "updated_by": r.updated_by,
        "record_values": r.record_values,
    }


async def _readers(session: AsyncSession, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    query = (
        select(ReadGrant)
        .where(ReadGrant.handle_key.in_(keys))
        .order_by(ReadGrant.handle_key, ReadGrant.value_index, ReadGrant.grantee)
    )
    for grant in (await session.execute(query)).scalars():
        found[grant.handle_key].append(
            {
                "value_index": grant.value_index,
                "grantee": grant.grantee,
                "granted_by": grant.granted_by,
                "granted_at": _iso(grant.granted_at),
            }
        )
    return found


async def _write_records(session: AsyncSession, writer: DepositWriter, records: Sequence[HandleRecord]) -> None:
    readers = await _readers(session, [r.handle_key for r in records])
    for record in records:
        writer.add(IDENTIFIER, objects.identifier_xml(_record_row(record), readers.get(record.handle_key, ())))


async def last_seq(session: AsyncSession) -> int:
    return await journal.last_seq(session)


async def write_full(session: AsyncSession, writer: DepositWriter) -> None:
    """Every enterprise, prefix and live identifier (in key order, a page at a time)."""
    writer.open()
    for enterprise in (await session.execute(select(Enterprise).order_by(Enterprise.id))).scalars():
        writer.add(ENTERPRISE, objects.enterprise_xml(_enterprise_row(enterprise)))
    for prefix in (await session.execute(select(Prefix).order_by(Prefix.prefix_key))).scalars():
        writer.add(PREFIX, objects.prefix_xml(_prefix_row(prefix)))
    templates = (await session.execute(select(Template).order_by(Template.prefix_key, Template.version))).scalars()
    await _write_templates(session, writer, list(templates))
    after = ""
    while True:
        query = (
            select(HandleRecord)
            .where(HandleRecord.deleted.is_(False), HandleRecord.handle_key > after)
            .order_by(HandleRecord.handle_key)
            .limit(PAGE)
        )
        page = list((await session.execute(query)).scalars())
        if not page:
            break
        await _write_records(session, writer, page)
        after = page[-1].handle_key
        session.expunge_all()
    writer.close()


async def _changed(session: AsyncSession, from_seq: int, to_seq: int) -> dict[str, set[str]]:
    """The subjects the journal numbers (from_seq, to_seq] changed, by kind of object."""
    query = (
        select(JournalEntry.kind, JournalEntry.subject_key)
        .where(JournalEntry.seq > from_seq, JournalEntry.seq <= to_seq)
        .distinct()
    )
    changed: dict[str, set[str]] = {"handle": set(), "prefix": set(), "enterprise": set(), "template": set()}
    for kind, subject_key in (await session.execute(query)).all():
        family = kind.partition(".")[0]
        if family in changed:
            changed[family].add(subject_key)
    return changed


def _chunks(keys: Sequence[str]) -> list[Sequence[str]]:
    return [keys[i : i + PAGE] for i in range(0, len(keys), PAGE)]


async def write_incremental(session: AsyncSession, writer: DepositWriter, from_seq: int, to_seq: int) -> None:
    """What changed after ``from_seq`` up to ``to_seq``: live objects as contents, the others as deletes."""
    changed = await _changed(session, from_seq, to_seq)
    enterprise_ids = sorted(int(k) for k in changed["enterprise"] if k.isdigit())
    enterprises = list(
        (await session.execute(select(Enterprise).where(Enterprise.id.in_(enterprise_ids)).order_by(Enterprise.id)))
        .scalars()
        .all()
    )
    prefix_keys = sorted(changed["prefix"])
    prefixes = list(
        (await session.execute(select(Prefix).where(Prefix.prefix_key.in_(prefix_keys)).order_by(Prefix.prefix_key)))
        .scalars()
        .all()
    )
    handle_keys = sorted(changed["handle"])
    live: list[str] = []
    gone: list[tuple[str, int | None]] = []
    for chunk in _chunks(handle_keys):
        states_query = select(
            HandleRecord.handle_key, HandleRecord.handle, HandleRecord.deleted, HandleRecord.version
        ).where(HandleRecord.handle_key.in_(chunk))
        states = {row[0]: row for row in await session.execute(states_query)}
        for key in chunk:
            row = states.get(key)
            if row is None or row[2]:
                gone.append((row[1] if row is not None else key, row[3] if row is not None else None))
            else:
                live.append(key)
    template_keys = sorted((k.partition("@")[0], k.partition("@")[2]) for k in changed["template"])
    templates = []
    for prefix_key, version in template_keys:
        found = await session.execute(
            select(Template).where(Template.prefix_key == prefix_key, Template.version == version)
        )
        templates += list(found.scalars())
    present_templates = {(t.prefix_key, t.version) for t in templates}
    present_ids = {e.id for e in enterprises}
    present_prefixes = {p.prefix_key for p in prefixes}
    writer.open(
        objects.deletes_xml(
            [i for i in enterprise_ids if i not in present_ids],
            [k for k in prefix_keys if k not in present_prefixes],
            gone,
            [k for k in template_keys if k not in present_templates],
        )
    )
    for enterprise in enterprises:
        writer.add(ENTERPRISE, objects.enterprise_xml(_enterprise_row(enterprise)))
    for prefix in prefixes:
        writer.add(PREFIX, objects.prefix_xml(_prefix_row(prefix)))
    await _write_templates(session, writer, templates)
    for chunk in _chunks(live):
        query = select(HandleRecord).where(HandleRecord.handle_key.in_(chunk)).order_by(HandleRecord.handle_key)
        await _write_records(session, writer, list((await session.execute(query)).scalars()))
        session.expunge_all()
    writer.close()
