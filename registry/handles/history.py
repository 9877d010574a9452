"""Every version of an identifier record, oldest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from registry.handles.changes import iso_utc
from registry.kernel import records as repository


async def history(session: AsyncSession, key: str) -> list[dict[str, Any]]:
    """Every version of a record, oldest first, as (version, deleted, values, who, when)."""
    versions = [
        {
            "version": h.version,
            "deleted": h.deleted,
            "values": h.record_values,
            "updatedBy": h.updated_by,
            "updatedAt": iso_utc(h.updated_at),
        }
        for h in await repository.history_of(session, key)
    ]
    current = await repository.get(session, key)
    if current is not None:
        versions.append(
            {
                "version": current.version,
                "deleted": current.deleted,
                "values": current.record_values,
                "updatedBy": current.updated_by,
                "updatedAt": iso_utc(current.updated_at),
            }
        )
    return versions
