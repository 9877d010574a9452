"""Exporting an enterprise's traceability: every event that touches an identifier under its prefix (or a prefix
derived from it), in time order, as one EPCIS 2.0 document streamed to a file. ``POST /epcis/capture`` takes it
back, 2000 events per document."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson
from sqlalchemy import and_, or_, select

from foundation.db import Database
from registry.events.models import Event, EventItem
from registry.kernel.syntax import canonical
from registry.prefixes import repository as prefixes
from registry.prefixes.errors import PrefixNotFound

_PAGE = 1000
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"


async def _events_under(db: Database, prefix_key: str) -> AsyncIterator[dict[str, Any]]:
    """Event bodies touching ``prefix_key/…`` or ``prefix_key.…/…``, by event time, each once."""
    under = or_(EventItem.handle_key.like(f"{prefix_key}/%"), EventItem.handle_key.like(f"{prefix_key}.%"))
    after: tuple[datetime, int] | None = None
    while True:
        query = (
            select(Event.body, Event.event_time, Event.seq)
            .join(EventItem, EventItem.event_seq == Event.seq)
            .where(under)
            .distinct()
            .order_by(Event.event_time, Event.seq)
            .limit(_PAGE)
        )
        if after is not None:
            query = query.where(
                or_(Event.event_time > after[0], and_(Event.event_time == after[0], Event.seq > after[1]))
            )
        async with db.read_session() as session:
            rows = (await session.execute(query)).all()
        for body, _, _ in rows:
            yield body
        if len(rows) < _PAGE:
            return
        after = (rows[-1][1], rows[-1][2])


async def export_events(db: Database, prefix: str, out: BinaryIO, progress: Callable[[int], None]) -> int:
    """Write the EPCIS document; returns the number of events."""
    key = canonical(prefix)
    async with db.read_session() as session:
        if await prefixes.get(session, key) is None:
            raise PrefixNotFound(prefix)
    out.write(
        orjson.dumps(
            {
                "@context": EPCIS_CONTEXT,
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        )[:-1]
    )
    out.write(b',"epcisBody":{"eventList":[')
    count = 0
    async for body in _events_under(db, key):
        out.write((b"," if count else b"") + orjson.dumps(body))
        count += 1
        if count % _PAGE == 0:
            progress(count)
    out.write(b"]}}")
    progress(count)
    return count
