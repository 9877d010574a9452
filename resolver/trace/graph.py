"""The trace query: upstream (what went into this) or downstream (where did this go), breadth-first, one query per
level here and one signed request per level to each other node the trace enters, cycle-safe. Nodes that are
unknown, deleted, unauthorised, foreign (no node known to serve them) or unreachable are reported and not
expanded."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from registry.events import repository as events
from resolver.trace.access import Access
from resolver.trace.federation import Link, RemoteTrace, Status


async def expand_local(
    session: AsyncSession, access: Access, keys: list[str], direction: str
) -> tuple[dict[str, Status], list[Link]]:
    """Statuses of this node's ``keys`` for the asking actor, and the links of those it may read."""
    if not keys:
        return {}, []
    statuses = await access.statuses(keys)
    found = [k for k in keys if statuses[k][0] == "found"]
    return statuses, [tuple(row) for row in await events.neighbours(session, found, direction)] if found else []


async def trace(
    session: AsyncSession, access: Access, start: str, direction: str, depth: int, remote: RemoteTrace | None = None
) -> dict[str, Any]:
    link_direction = "up" if direction == "upstream" else "down"
    status: dict[str, Status] = {}
    level = {start: 0}
    edges: dict[tuple[str, str, str], set[int | str]] = defaultdict(set)
    frontier, truncated = [start], False
    for current in range(depth + 1):
        local = [k for k in frontier if access.is_local(k)]
        others = [k for k in frontier if not access.is_local(k)]
        found, links = await expand_local(session, access, local, link_direction)
        status.update(found)
        if others and remote is not None:
            found, remote_links = await remote.expand(others, link_direction, await access.on_behalf_of())
            status.update(found)
            links += remote_links
        else:
            status.update({k: ("foreign", k) for k in others})
        if current == depth:
            truncated = bool(links)
            break
        frontier = []
        for key, neighbour, event, kind in links:
            up, down = (neighbour, key) if link_direction == "up" else (key, neighbour)
            edges[(up, down, kind)].add(event)
            if neighbour not in level:
                level[neighbour] = current + 1
                frontier.append(neighbour)
        if not frontier:
            break
    local_ids = await events.event_ids(session, {e for refs in edges.values() for e in refs if isinstance(e, int)})
    spelling = {key: status.get(key, ("", key))[1] for key in level}
    return {
        "root": spelling[start],
        "direction": direction,
        "depth": depth,
        "truncated": truncated,
        "nodes": [{"id": spelling[key], "status": status[key][0], "level": lvl} for key, lvl in level.items()],
        "edges": [
            {
                "from": spelling[up],
                "to": spelling[down],
                "kind": kind,
                "events": sorted(filter(None, (local_ids.get(e) if isinstance(e, int) else e for e in refs))),
            }
            for (up, down, kind), refs in edges.items()
        ],
    }
