"""Handle-record look-up: the filters of Handle.Net v9 resolution and who may see which values."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.errors import BadIndex
from foundation.text import is_decimal
from registry.handles import read_grants as readers
from registry.kernel import records as repository
from registry.kernel.actor import Actor
from registry.kernel.errors import IdentifierNotFound
from registry.kernel.models import HandleRecord
from registry.kernel.permissions import Perm
from registry.kernel.syntax import Identifier
from registry.kernel.values import Value, admin_view, public_view
from resolver.errors import TooManyFilters

MAX_FILTERS = 16


@dataclass(frozen=True)
class Query:
    types: tuple[str, ...] = ()
    indexes: tuple[int, ...] = ()
    public_only: bool = False

    @classmethod
    def from_params(cls, types: list[str], indexes: list[str], public_only: bool) -> Query:
        if len(types) + len(indexes) > MAX_FILTERS:
            raise TooManyFilters(MAX_FILTERS)
        if not all(is_decimal(i) for i in indexes):
            raise BadIndex("index filters must be integers")
        return cls(tuple(types), tuple(int(i) for i in indexes), public_only)

    def select(self, values: list[Value]) -> list[Value]:
        """Index OR type; a type ending in '.' also matches its subtypes."""
        if not self.types and not self.indexes:
            return values
        return [v for v in values if v["index"] in self.indexes or any(_type_matches(t, v["type"]) for t in self.types)]


def _type_matches(wanted: str, actual: str) -> bool:
    if wanted.endswith("."):
        return actual == wanted[:-1] or actual.startswith(wanted)
    return actual == wanted


async def load(session: AsyncSession, ident: Identifier) -> HandleRecord:
    record = await repository.get(session, ident.key)
    if record is None or record.deleted:
        raise IdentifierNotFound(f"{ident.handle} not found")
    return record


async def visible_values(
    session: AsyncSession,
    actor: Actor,
    ident: Identifier,
    record: HandleRecord,
    public_only: bool,
    grantees: set[str] | None = None,
) -> list[Value]:
    """Public values for everyone; all but secrets for an administrator of the record who asked with credentials;
    for other authenticated readers, the public values and the restricted ones granted to them (read grants)."""
    if public_only or not actor.authenticated:
        return public_view(record.record_values)
    if await may_read_all(session, actor, ident, record):
        return admin_view(record.record_values)
    if grantees is None:
        grantees = await readers.grantee_names(session, actor)
    indexes = (await readers.granted(session, [ident.key], grantees)).get(ident.key, set())
    public, extra = public_view(record.record_values), readers.restricted_view(record.record_values, indexes)
    return sorted(public + extra, key=lambda v: v["index"]) if extra else public


async def may_read_all(session: AsyncSession, actor: Actor, ident: Identifier, record: HandleRecord) -> bool:
    """The actor holds the read-value permission of the record (its HS_ADMIN values, or its prefix's)."""
    return await readers.holds(session, actor, ident, record.record_values, [Perm.READ_VALUE])
