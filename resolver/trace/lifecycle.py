"""The lifecycle query: every event that touches an identifier, in time order, one page at a time."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.events.models import Event, EventItem
from resolver.errors import BadPageToken

MAX_PER_PAGE = 1000


def encode_token(event_time: datetime, seq: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([event_time.isoformat(), seq])).decode().rstrip("=")


def decode_token(token: str) -> tuple[datetime, int]:
    try:
        moment, seq = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return datetime.fromisoformat(moment), int(seq)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadPageToken() from None


async def events_of(
    session: AsyncSession,
    keys: list[str],
    *,
    event_types: list[str],
    biz_steps: list[str],
    since: datetime | None,
    until: datetime | None,
    location: str | None,
    per_page: int,
    after: tuple[datetime, int] | None,
) -> tuple[list[dict[str, Any]], str | None]:
    query = (
        select(Event.body, Event.event_time, Event.seq)
        .join(EventItem, EventItem.event_seq == Event.seq)
        .where(EventItem.handle_key.in_(keys))
        .distinct()
        .order_by(Event.event_time, Event.seq)
        .limit(per_page + 1)
    )
    if event_types:
        query = query.where(Event.event_type.in_(event_types))
    if biz_steps:
        query = query.where(Event.biz_step.in_(biz_steps))
    if since is not None:
        query = query.where(Event.event_time >= since)
    if until is not None:
        query = query.where(Event.event_time < until)
    if location is not None:
        query = query.where(or_(Event.biz_location == location, Event.read_point == location))
    if after is not None:
        query = query.where(or_(Event.event_time > after[0], and_(Event.event_time == after[0], Event.seq > after[1])))
    rows = (await session.execute(query)).all()
    token = encode_token(rows[per_page - 1][1], rows[per_page - 1][2]) if len(rows) > per_page else None
    return [row[0] for row in rows[:per_page]], token
