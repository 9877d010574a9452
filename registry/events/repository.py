"""SQL of events, their items, the trace links and the grants."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from registry.enterprises import repository as enterprises
from registry.events.models import Event, EventItem, PartnerGrant, ReferenceReport, RemoteLink, TraceGrant, TraceLink
from registry.events.parsing import ParsedEvent
from registry.kernel import records as handles


async def existing_ids(session: AsyncSession, event_ids: Iterable[str]) -> set[str]:
    ids = list(event_ids)
    if not ids:
        return set()
    return set((await session.execute(select(Event.event_id).where(Event.event_id.in_(ids)))).scalars())


async def by_event_id(session: AsyncSession, event_id: str) -> Event | None:
    return (await session.execute(select(Event).where(Event.event_id == event_id))).scalar_one_or_none()


async def insert_events(
    session: AsyncSession,
    events: list[ParsedEvent],
    *,
    record_time: datetime,
    enterprise_id: int | None,
    captured_by: str,
) -> list[int]:
    """Store events with their items and both ends of each trace edge, in three statements whatever their number;
    returns their capture numbers, in order."""
    if not events:
        return []
    rows = [
        {
            "event_id": e.event_id,
            "event_type": e.event_type,
            "action": e.action,
            "event_time": e.event_time,
            "event_time_zone_offset": e.offset,
            "record_time": record_time,
            "biz_step": e.biz_step,
            "disposition": e.disposition,
            "read_point": e.read_point,
            "biz_location": e.biz_location,
            "enterprise_id": enterprise_id,
            "captured_by": captured_by,
            "body": e.body,
        }
        for e in events
    ]
    statement = insert(Event.__table__).returning(Event.__table__.c.seq, sort_by_parameter_order=True)
    seqs = list((await session.execute(statement, rows)).scalars())
    items = [
        {"handle_key": key, "event_seq": seq, "role": role, "event_time": event.event_time}
        for event, seq in zip(events, seqs, strict=True)
        for key, role in event.items
    ]
    if items:
        await session.execute(insert(EventItem.__table__), items)
    links = [
        link
        for event, seq in zip(events, seqs, strict=True)
        for up, down, kind in event.edges
        for link in (
            {"handle_key": down, "direction": "up", "neighbor_key": up, "event_seq": seq, "kind": kind},
            {"handle_key": up, "direction": "down", "neighbor_key": down, "event_seq": seq, "kind": kind},
        )
    ]
    if links:
        await session.execute(insert(TraceLink.__table__), links)
    return seqs


async def neighbours(session: AsyncSession, keys: Iterable[str], direction: str) -> list[Any]:
    """The links of ``keys`` in one direction (``up``: what went into them; ``down``: where they went), as rows of
    (handle_key, neighbor_key, event, kind): ``event`` is the seq of an event here, or the eventID of an event at
    another node that reported the link (back-links)."""
    keys = list(keys)
    if session.get_bind().dialect.name == "postgresql":  # one array parameter: a prepared statement, whatever the count
        driver = await handles.driver_of(session)
        rows = await driver.fetch(_PG_NEIGHBOURS, keys, direction)
        return [
            (key, neighbour, seq if seq is not None else event_id, kind) for key, neighbour, seq, event_id, kind in rows
        ]
    local = select(TraceLink.handle_key, TraceLink.neighbor_key, TraceLink.event_seq, TraceLink.kind).where(
        TraceLink.handle_key.in_(keys), TraceLink.direction == direction
    )
    remote = select(RemoteLink.handle_key, RemoteLink.neighbor_key, RemoteLink.event_id, RemoteLink.kind).where(
        RemoteLink.handle_key.in_(keys), RemoteLink.direction == direction
    )
    return [tuple(row) for row in [*(await session.execute(local)).all(), *(await session.execute(remote)).all()]]


_PG_NEIGHBOURS = (
    "SELECT handle_key, neighbor_key, event_seq, NULL::text, kind FROM trace_links "
    "WHERE handle_key = ANY($1::text[]) AND direction = $2 "
    "UNION ALL SELECT handle_key, neighbor_key, NULL::bigint, event_id, kind FROM remote_links "
    "WHERE handle_key = ANY($1::text[]) AND direction = $2"
)


async def add_remote_links(session: AsyncSession, links: list[dict[str, Any]]) -> None:
    """Store links reported by another node (idempotent: a repeated report changes nothing)."""
    if links:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        await session.execute(dialect.insert(RemoteLink).on_conflict_do_nothing(), links)


async def foreign_ends(
    session: AsyncSession, event_ids: list[str], is_local: Callable[[str], bool]
) -> list[dict[str, Any]]:
    """The links of these events stored under identifiers of other nodes, as the back-links to report to their
    home nodes: ``{"handle", "direction", "neighbour", "event", "kind"}``."""
    if not event_ids:
        return []
    query = (
        select(TraceLink.handle_key, TraceLink.direction, TraceLink.neighbor_key, Event.event_id, TraceLink.kind)
        .join(Event, Event.seq == TraceLink.event_seq)
        .where(Event.event_id.in_(event_ids))
    )
    return [
        {"handle": key, "direction": direction, "neighbour": neighbour, "event": event_id, "kind": kind}
        for key, direction, neighbour, event_id, kind in (await session.execute(query)).all()
        if not is_local(key) and is_local(neighbour)
    ]


async def foreign_references(
    session: AsyncSession, keys: list[str], is_local: Callable[[str], bool]
) -> dict[str, list[str]]:
    """The identifiers of other nodes that these records' reference items name (ADR 0003), by record."""
    found: dict[str, list[str]] = {}
    if keys:
        query = select(TraceLink.handle_key, TraceLink.neighbor_key).where(
            TraceLink.handle_key.in_(keys), TraceLink.direction == "up", TraceLink.kind == "reference"
        )
        for key, target in (await session.execute(query)).all():
            if not is_local(target):
                found.setdefault(key, []).append(target)
    return found


async def reported_prefixes(session: AsyncSession, keys: list[str]) -> dict[str, set[str]]:
    """The target prefixes last reported for these records' references."""
    found: dict[str, set[str]] = {}
    if keys:
        query = select(ReferenceReport.source_key, ReferenceReport.target_prefix).where(
            ReferenceReport.source_key.in_(keys)
        )
        for key, prefix in (await session.execute(query)).all():
            found.setdefault(key, set()).add(prefix)
    return found


async def record_reported_prefixes(session: AsyncSession, reported: dict[str, set[str]]) -> None:
    """What each record's references were reported as, replacing what was recorded before."""
    if reported:
        await session.execute(delete(ReferenceReport).where(ReferenceReport.source_key.in_(list(reported))))
        rows = [
            {"source_key": key, "target_prefix": prefix} for key, prefixes in reported.items() for prefix in prefixes
        ]
        if rows:
            await session.execute(insert(ReferenceReport.__table__), rows)


async def replace_remote_references(
    session: AsyncSession, sender: str, sources: list[str], links: list[dict[str, Any]]
) -> None:
    """The reference back-links of the sender's records ``sources`` become ``links`` (all of them: a record no
    longer referencing one of ours has its link withdrawn)."""
    if sources:
        await session.execute(
            delete(RemoteLink).where(
                RemoteLink.source_node == sender,
                RemoteLink.kind == "reference",
                RemoteLink.direction == "down",
                RemoteLink.neighbor_key.in_(sources),
            )
        )
    await add_remote_links(session, links)


_PG_EVENT_IDS = "SELECT seq, event_id FROM events WHERE seq = ANY($1::bigint[])"


async def event_ids(session: AsyncSession, seqs: Iterable[int]) -> dict[int, str]:
    seqs = list(seqs)
    if not seqs:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        return dict(await (await handles.driver_of(session)).fetch(_PG_EVENT_IDS, seqs))
    return dict((await session.execute(select(Event.seq, Event.event_id).where(Event.seq.in_(seqs)))).all())


async def owners_granting(
    session: AsyncSession, grantee_id: int | None = None, credit_code: str | None = None
) -> set[int]:
    """The owners who granted an enterprise: by its id on this node, or by its credit code wherever it is
    registered (an enterprise of this node is known by both)."""
    if grantee_id is not None and credit_code is None:
        credit_code = await enterprises.credit_code_of(session, grantee_id)
    partners = select(PartnerGrant.owner_enterprise_id).where(PartnerGrant.grantee_credit_code == (credit_code or ""))
    if grantee_id is None:
        return set((await session.execute(partners)).scalars())
    query = partners.union(select(TraceGrant.owner_enterprise_id).where(TraceGrant.grantee_enterprise_id == grantee_id))
    return set((await session.execute(query)).scalars())


async def grants_of(session: AsyncSession, owner_id: int) -> list[tuple[int | str, datetime]]:
    """(grantee, since): an enterprise id of this node, or the credit code of an enterprise anywhere."""
    local = select(TraceGrant.grantee_enterprise_id, TraceGrant.created_at).where(
        TraceGrant.owner_enterprise_id == owner_id
    )
    partners = select(PartnerGrant.grantee_credit_code, PartnerGrant.created_at).where(
        PartnerGrant.owner_enterprise_id == owner_id
    )
    grants: list[tuple[int | str, datetime]] = [
        (grantee, since) for grantee, since in (await session.execute(local)).all()
    ]
    grants += [(grantee, since) for grantee, since in (await session.execute(partners)).all()]
    return grants


def _grant_row(owner_id: int, grantee: int | str) -> tuple[type, dict[str, Any]]:
    if isinstance(grantee, str):
        return PartnerGrant, {"owner_enterprise_id": owner_id, "grantee_credit_code": grantee}
    return TraceGrant, {"owner_enterprise_id": owner_id, "grantee_enterprise_id": grantee}


async def add_grant(session: AsyncSession, owner_id: int, grantee: int | str, now: datetime) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    model, row = _grant_row(owner_id, grantee)
    await session.execute(dialect.insert(model).values(**row, created_at=now).on_conflict_do_nothing())


async def remove_grant(session: AsyncSession, owner_id: int, grantee: int | str) -> None:
    model, row = _grant_row(owner_id, grantee)
    await session.execute(delete(model).where(*(getattr(model, k) == v for k, v in row.items())))


REFERENCE_SEQ = 0  # reference links come from record values, not from an event


async def replace_references(session: AsyncSession, references: dict[str, list[str]], *, fresh: set[str]) -> None:
    """Make the reference links of records (both ends) what their values now say. ``fresh`` records are new and
    have no links yet."""
    changed = [key for key in references if key not in fresh]
    if changed:
        kind = TraceLink.kind == "reference"
        await session.execute(
            delete(TraceLink).where(kind, TraceLink.direction == "up", TraceLink.handle_key.in_(changed))
        )
        await session.execute(
            delete(TraceLink).where(kind, TraceLink.direction == "down", TraceLink.neighbor_key.in_(changed))
        )
    links = []
    for record, referenced in references.items():
        for ref in referenced:
            if ref == record:
                continue
            links.append(
                {
                    "handle_key": record,
                    "direction": "up",
                    "neighbor_key": ref,
                    "event_seq": REFERENCE_SEQ,
                    "kind": "reference",
                }
            )
            links.append(
                {
                    "handle_key": ref,
                    "direction": "down",
                    "neighbor_key": record,
                    "event_seq": REFERENCE_SEQ,
                    "kind": "reference",
                }
            )
    if links:
        await session.execute(insert(TraceLink.__table__), links)
