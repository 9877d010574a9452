"""Enterprise states: applied -> approved | rejected; approved <-> disabled (node administrator)."""

from __future__ import annotations

from enum import Enum


class EnterpriseState(str, Enum):
    APPLIED = "applied"  # real-name record submitted, awaiting the node administrator's audit
    APPROVED = "approved"  # may apply for prefixes and use them
    REJECTED = "rejected"  # audit failed; the record is kept
    DISABLED = "disabled"  # suspended by the node administrator; its prefixes accept no writes


TRANSITIONS: dict[EnterpriseState, frozenset[EnterpriseState]] = {
    EnterpriseState.APPLIED: frozenset({EnterpriseState.APPROVED, EnterpriseState.REJECTED}),
    EnterpriseState.APPROVED: frozenset({EnterpriseState.DISABLED}),
    EnterpriseState.DISABLED: frozenset({EnterpriseState.APPROVED}),
    EnterpriseState.REJECTED: frozenset(),
}

INDUSTRIES = {
    "steel": "钢铁",
    "automotive": "汽车",
    "packaging": "绿色包装",
}
