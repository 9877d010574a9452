"""The registry's notion of now (UTC, aware)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
