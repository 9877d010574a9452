"""Prefix lifecycle, with SNMS state codes (ARCHITECTURE.md, "Prefix lifecycle")."""

from __future__ import annotations

from enum import IntEnum


class PrefixState(IntEnum):
    DISABLED = 0  # allocated, writes refused (node administrator)
    ENABLED = 1  # in service
    PENDING_DELETE = 2  # deletion requested, awaiting the top-level node's confirmation
    REJECTED = 3  # refused by the node administrator or the top-level node
    AWAITING_AUDIT = 4  # applied for, awaiting the node administrator
    IN_AUDIT = 5  # approved here, awaiting the top-level node
    DELETED = 9  # internal: gone; the code is never reused (not an SNMS code)


TRANSITIONS: dict[PrefixState, frozenset[PrefixState]] = {
    PrefixState.AWAITING_AUDIT: frozenset({PrefixState.ENABLED, PrefixState.IN_AUDIT, PrefixState.REJECTED}),
    PrefixState.IN_AUDIT: frozenset({PrefixState.ENABLED, PrefixState.REJECTED}),
    PrefixState.ENABLED: frozenset({PrefixState.DISABLED, PrefixState.PENDING_DELETE}),
    PrefixState.DISABLED: frozenset({PrefixState.ENABLED, PrefixState.PENDING_DELETE}),
    PrefixState.PENDING_DELETE: frozenset({PrefixState.DELETED}),
    PrefixState.REJECTED: frozenset({PrefixState.AWAITING_AUDIT}),  # a re-application of the same code
    PrefixState.DELETED: frozenset(),
}

LABELS = {
    PrefixState.DISABLED: "disabled",
    PrefixState.ENABLED: "enabled",
    PrefixState.PENDING_DELETE: "pending delete",
    PrefixState.REJECTED: "rejected",
    PrefixState.AWAITING_AUDIT: "awaiting audit",
    PrefixState.IN_AUDIT: "in audit",
    PrefixState.DELETED: "deleted",
}
