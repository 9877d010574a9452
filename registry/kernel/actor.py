"""Who acts: an authenticated identity, as Handle admin references ``index:handle`` (canonical), and its role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from registry.kernel.errors import RoleForbidden

NODE_ADMIN: Final = "node_admin"
ENTERPRISE_ADMIN: Final = "enterprise_admin"  # everything of its enterprise: identifiers, users, keys, grants, prefixes
REGISTRAR: Final = "registrar"  # registers, changes and deletes identifiers and captures events; administers nothing
AUDITOR: Final = "auditor"  # reads everything of its enterprise (restricted values included) and writes nothing
ENTERPRISE_ROLES = (ENTERPRISE_ADMIN, REGISTRAR, AUDITOR)


@dataclass(frozen=True)
class Actor:
    name: str  # shown in history and the journal, e.g. "300:88.118.1042/admin" or "user:alice"
    identities: frozenset[str] = field(default_factory=frozenset)  # canonical "index:handle"
    is_node_admin: bool = False
    enterprise_id: int | None = None
    role: str = ENTERPRISE_ADMIN  # Handle identities are bounded by HS_ADMIN alone

    @property
    def authenticated(self) -> bool:
        return bool(self.identities) or self.is_node_admin

    @property
    def listing_scope(self) -> int | None:
        """Whose rows a listing shows this actor: every enterprise's for the node administrator (None), else its own
        enterprise's (-1, no enterprise's, when it acts for none)."""
        return None if self.is_node_admin else (self.enterprise_id or -1)

    @property
    def read_only(self) -> bool:
        return self.role == AUDITOR and not self.is_node_admin

    def require_admin(self, what: str) -> None:
        """Administrative actions of an enterprise: its administrators (and the node's) only."""
        if not self.is_node_admin and self.role != ENTERPRISE_ADMIN:
            raise RoleForbidden(f"{what} is for the enterprise's administrators; {self.name} is a {self.role}")


ANONYMOUS = Actor(name="anonymous")
SYSTEM = Actor(name="system", is_node_admin=True, role=NODE_ADMIN)
