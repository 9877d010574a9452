"""Lifecycle of a GS1 company prefix declaration, in the SNMS codes prefixes use where the meaning is the same."""

from __future__ import annotations

from enum import IntEnum


class DeclarationState(IntEnum):
    """One declared GS1 company prefix. Only APPROVED lets the enterprise map keys under it."""

    REVOKED = 0  # withdrawn by the node administrator: no new keys under it (mapped keys stay, see ADR 0016)
    APPROVED = 1  # the node administrator checked the enterprise's GS1 licence: keys under it may be mapped
    REJECTED = 3  # refused by the node administrator, with a reason
    AWAITING_AUDIT = 4  # declared, awaiting the node administrator


TRANSITIONS: dict[DeclarationState, frozenset[DeclarationState]] = {
    DeclarationState.AWAITING_AUDIT: frozenset({DeclarationState.APPROVED, DeclarationState.REJECTED}),
    DeclarationState.APPROVED: frozenset({DeclarationState.REVOKED}),
    DeclarationState.REJECTED: frozenset({DeclarationState.AWAITING_AUDIT}),  # declared again
    DeclarationState.REVOKED: frozenset({DeclarationState.AWAITING_AUDIT}),  # declared again
}

# a declaration in one of these states holds its digits: no other enterprise may declare them or an overlapping prefix
HOLDING = frozenset({DeclarationState.AWAITING_AUDIT, DeclarationState.APPROVED})

LABELS = {
    DeclarationState.REVOKED: "revoked",
    DeclarationState.APPROVED: "approved",
    DeclarationState.REJECTED: "rejected",
    DeclarationState.AWAITING_AUDIT: "awaiting audit",
}
