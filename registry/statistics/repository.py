from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from registry.kernel.models import HandleRecord
from registry.statistics.models import ResolutionCount


async def add_resolutions(session: AsyncSession, counts: dict[tuple[date, str], int]) -> None:
    """Add to the per-day, per-prefix resolution counters (one upsert for all of them)."""
    if not counts:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ResolutionCount)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "prefix_key"], set_={"count": ResolutionCount.count + statement.excluded.count}
    )
    await session.execute(statement, [{"day": d, "prefix_key": p, "count": n} for (d, p), n in counts.items()])


async def resolutions_on(session: AsyncSession, day: date) -> dict[str, int]:
    query = select(ResolutionCount.prefix_key, ResolutionCount.count).where(ResolutionCount.day == day)
    return dict((await session.execute(query)).all())


async def registrations_on(session: AsyncSession, day: date) -> dict[str, int]:
    """Identifiers created on ``day`` (UTC) per prefix, still registered; NA handles and administrator identities
    excluded."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    query = (
        select(HandleRecord.prefix_key, func.count())
        .where(
            HandleRecord.created_at >= start,
            HandleRecord.created_at < start + timedelta(days=1),
            HandleRecord.deleted.is_(False),
            HandleRecord.prefix_key != "0.na",
            HandleRecord.handle_key.not_like("%/admin"),
        )
        .group_by(HandleRecord.prefix_key)
    )
    return dict((await session.execute(query)).all())
