"""Read grants: who may read an identifier's restricted values (those without Handle's public-read permission).

A grant names an identifier and either one value index (a template item) or 0 for all its restricted values and
the identifier's traceability (its trace node and lifecycle events). Grantees are written ``enterprise:<id>``,
``code:<unified social credit code>`` (an enterprise of any node) or ``identity:<index:handle>``. The identifier's
administrators (HS_ADMIN holders) always read everything; they alone change its readers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.text import is_decimal
from registry.accounts.models import ReadGrant
from registry.enterprises import repository as enterprises
from registry.enterprises.credit_code import is_valid as credit_code_valid
from registry.handles.errors import BadReader, ReadersForbidden, TooManyReaders
from registry.journal import repository as journal
from registry.kernel import records as repository
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.kernel.errors import IdentifierNotFound
from registry.kernel.permissions import Perm, governing_admins, identity_key, is_admin
from registry.kernel.syntax import Identifier
from registry.kernel.values import Value

WHOLE_IDENTIFIER = 0
MAX_READERS = 200


async def holds(session: AsyncSession, actor: Actor, ident: Identifier, values: list[Value], perms: list[Perm]) -> bool:
    """The actor holds ``perms`` on the identifier through its HS_ADMIN values, or else its prefix's."""
    if actor.is_node_admin:
        return True
    if not actor.authenticated:
        return False

    async def load_values(key: str) -> list[Value] | None:
        found = await repository.get(session, key)
        return None if found is None or found.deleted else found.record_values

    return await is_admin(actor, await governing_admins(ident, values, load_values), perms, load_values)


def parse_grantee(text: str) -> str:
    """A grantee in its stored spelling, or InvalidRequest."""
    kind, _, name = text.partition(":")
    if kind == "enterprise" and is_decimal(name):
        return f"enterprise:{int(name)}"
    if kind == "code" and credit_code_valid(name):
        return f"code:{name}"
    if kind == "identity":
        index, _, handle = name.partition(":")
        if is_decimal(index) and "/" in handle:
            return "identity:" + identity_key(int(index), handle)
    raise BadReader(text)


async def grantee_names(session: AsyncSession, actor: Actor, credit_code: str | None = None) -> set[str]:
    """Every spelling under which a grant may name this actor."""
    names = {f"identity:{i}" for i in actor.identities}
    if actor.enterprise_id is not None:
        names.add(f"enterprise:{actor.enterprise_id}")
        credit_code = credit_code or await enterprises.credit_code_of(session, actor.enterprise_id)
    if credit_code:
        names.add(f"code:{credit_code}")
    return names


async def granted(session: AsyncSession, keys: Iterable[str], grantees: set[str]) -> dict[str, set[int]]:
    """identifier key -> the value indexes (0: all) granted to any of ``grantees``."""
    keys = list(keys)
    out: dict[str, set[int]] = defaultdict(set)
    if not keys or not grantees:
        return out
    query = select(ReadGrant.handle_key, ReadGrant.value_index).where(
        ReadGrant.handle_key.in_(keys), ReadGrant.grantee.in_(grantees)
    )
    for key, index in (await session.execute(query)).all():
        out[key].add(index)
    return out


def restricted_view(values: list[Value], indexes: set[int]) -> list[Value]:
    """The restricted values a reader was granted (all of them with a grant of index 0); never secrets."""
    return [
        v
        for v in values
        if v["type"] != "HS_SECKEY"
        and v.get("permissions", "1110")[2] == "0"
        and (WHOLE_IDENTIFIER in indexes or v["index"] in indexes)
    ]


async def readers_of(session: AsyncSession, key: str) -> dict[int, list[str]]:
    query = select(ReadGrant.value_index, ReadGrant.grantee).where(ReadGrant.handle_key == key)
    out: dict[int, list[str]] = defaultdict(list)
    for index, grantee in (await session.execute(query.order_by(ReadGrant.value_index, ReadGrant.grantee))).all():
        out[index].append(grantee)
    return dict(out)


async def require_reader_admin(session: AsyncSession, actor: Actor, ident: Identifier) -> list[Value]:
    """The identifier's values, when the actor administers it (and may administer at all)."""
    actor.require_admin("choosing readers")
    record = await repository.get(session, ident.key)
    if record is None or record.deleted:
        raise IdentifierNotFound(f"{ident.handle} not found")
    if not await holds(session, actor, ident, record.record_values, [Perm.MODIFY_VALUE]):
        raise ReadersForbidden(actor.name, ident.handle)
    return record.record_values


async def set_readers(
    session: AsyncSession, actor: Actor, ident: Identifier, index: int, readers: list[str]
) -> list[str]:
    """Replace who may read value ``index`` of the identifier (0: all its restricted values)."""
    await require_reader_admin(session, actor, ident)
    if len(readers) > MAX_READERS:
        raise TooManyReaders(MAX_READERS)
    names = sorted({parse_grantee(r) for r in readers})
    await session.execute(delete(ReadGrant).where(ReadGrant.handle_key == ident.key, ReadGrant.value_index == index))
    now = utcnow()
    session.add_all(
        [
            ReadGrant(handle_key=ident.key, value_index=index, grantee=name, granted_by=actor.name, granted_at=now)
            for name in names
        ]
    )
    await session.flush()
    # journalled as a change of the identifier: incremental escrow deposits carry its readers (ADR 0014)
    await journal.append(session, [journal.entry("handle.readers", ident.handle, ident.key, actor.name, index=index)])
    return names
