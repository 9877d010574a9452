"""Who acts: an authenticated identity, as Handle admin references ``index:handle`` (canonical)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    name: str  # shown in history and the journal, e.g. "300:88.118.1042/admin" or "user:alice"
    identities: frozenset[str] = field(default_factory=frozenset)  # canonical "index:handle"
    is_node_admin: bool = False
    enterprise_id: int | None = None

    @property
    def authenticated(self) -> bool:
        return bool(self.identities) or self.is_node_admin


ANONYMOUS = Actor(name="anonymous")
SYSTEM = Actor(name="system", is_node_admin=True)
