"""The registry's notion of now (UTC, aware)."""

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A stored time as aware UTC: SQLite hands times back without their zone."""
    return moment if moment is None or moment.tzinfo is not None else moment.replace(tzinfo=UTC)
