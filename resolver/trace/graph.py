"""The trace query: upstream (what went into this) or downstream (where did this go), breadth-first, one query per
level, cycle-safe; nodes that are unknown, deleted, foreign or unauthorised are reported and not expanded."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from registry.events import repository as events
from resolver.trace.access import Access


async def trace(session: AsyncSession, access: Access, start: str, direction: str, depth: int) -> dict[str, Any]:
    link_direction = "up" if direction == "upstream" else "down"
    status = await access.statuses([start])
    level = {start: 0}
    edges: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    frontier = [start] if status[start][0] == "found" else []
    truncated = False
    for current in range(1, depth + 1):
        if not frontier:
            break
        links = await events.neighbours(session, frontier, link_direction)
        new = []
        for key, neighbor, event_seq, kind in links:
            up, down = (neighbor, key) if link_direction == "up" else (key, neighbor)
            edges[(up, down, kind)].add(event_seq)
            if neighbor not in level:
                level[neighbor] = current
                new.append(neighbor)
        status.update(await access.statuses(new))
        frontier = [k for k in new if status[k][0] == "found"]
    else:
        truncated = bool(frontier) and bool(await events.neighbours(session, frontier, link_direction))
    event_ids = await events.event_ids(session, {seq for seqs in edges.values() for seq in seqs})
    return {
        "root": status[start][1], "direction": direction, "depth": depth, "truncated": truncated,
        "nodes": [{"id": status[key][1], "status": status[key][0], "level": lvl} for key, lvl in level.items()],
        "edges": [{"from": status[up][1], "to": status[down][1], "kind": kind,
                   "events": sorted(event_ids[s] for s in seqs if s in event_ids)}
                  for (up, down, kind), seqs in edges.items()],
    }
