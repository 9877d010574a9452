"""What happened to each item of a write, and the registrations it charges to its prefixes' daily quota."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from foundation.errors import DomainError
from foundation.http.budgets import Budgets
from registry.kernel.syntax import canonical


@dataclass
class Outcome:
    """What happened to one item of a write."""

    handle: str
    error: DomainError | None = None
    created: bool = False
    changed: bool = False
    version: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def charge_registrations(budgets: Budgets, outcomes: Iterable[Outcome]) -> None:
    """Charge the identifiers just created to their enterprise prefixes' daily quota, before the transaction
    commits: over the quota the request is refused (IDIS 604) and rolls back whole."""
    created = Counter(canonical(o.handle.partition("/")[0]) for o in outcomes if o.created)
    for prefix, count in created.items():
        budgets.charge_registrations(prefix, count)
