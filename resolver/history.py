"""Who changed which value when: consecutive versions of a record compared value by value."""

from __future__ import annotations

from typing import Any

from registry.kernel.values import public_view, render, same_value


def describe_changes(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each version with the indexes it added, modified and removed (secrets and private values never shown)."""
    out = []
    previous: dict[int, dict[str, Any]] = {}
    for version in versions:
        current = {v["index"]: v for v in version["values"]}
        added = sorted(set(current) - set(previous))
        removed = sorted(set(previous) - set(current))
        modified = sorted(i for i in set(current) & set(previous) if not same_value(current[i], previous[i]))
        out.append(
            {
                "version": version["version"],
                "deleted": version["deleted"],
                "updatedBy": version["updatedBy"],
                "updatedAt": version["updatedAt"],
                "added": added,
                "modified": modified,
                "removed": removed,
                "values": [render(v) for v in public_view(version["values"])],
            }
        )
        previous = current
    return out
