"""Search by value: the records whose values match some patterns, among the values the caller may read.

This is the reverse look-up of the Handle reverse-lookup servlet (``/hrls/handles?URL=…``) that pyhandle's
``search_handle`` calls, and the value filter of the Handle listing. Fields are value types; ``*`` in a value
matches any text; matching ignores case; every field must match (a value of that type the caller may read).
The value index (``registry.kernel.value_index``) finds the candidates; each one is then checked on its record
with the same rule as resolution (``resolver.records.visible_values``). See docs/adr/0011-search-by-value.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.accounts.models import ReadGrant
from registry.handles import read_grants as readers
from registry.kernel import records as repository
from registry.kernel import value_index
from registry.kernel.actor import Actor
from registry.kernel.models import HandleRecord
from registry.kernel.syntax import Identifier, canonical
from registry.kernel.value_index import Term, Visibility, fold
from registry.kernel.values import Value, admin_view, public_view
from resolver.errors import (
    SearchFieldInvalid,
    SearchLeadingWildcard,
    SearchNoField,
    SearchValueEmpty,
    SearchValueTooLong,
    TooManySearchFields,
)
from resolver.records import may_read_all

MAX_FIELDS = 8
MAX_VALUE_CHARS = 1024
MAX_TYPE_CHARS = 64
MIN_INNER_TEXT = 3  # a trigram: the least text a leading wildcard's index look-up can use


@dataclass(frozen=True)
class Found:
    handle: str
    values: list[Value]  # the record's values this caller may read


def terms_of(fields: Iterable[tuple[str, str]]) -> list[Term]:
    """The searched fields, checked, most selective first (an exact value, then the longest literal head; a leading
    wildcard last): the first drives the index look-up."""
    terms: list[Term] = []
    for name, pattern in fields:
        if not name or len(name) > MAX_TYPE_CHARS or not name.isprintable():
            raise SearchFieldInvalid(name)
        if not pattern:
            raise SearchValueEmpty(name)
        if len(pattern) > MAX_VALUE_CHARS:
            raise SearchValueTooLong(name, MAX_VALUE_CHARS)
        while "**" in pattern:
            pattern = pattern.replace("**", "*")
        terms.append(Term(fold(name), fold(pattern)))
        if len(terms) > MAX_FIELDS:
            raise TooManySearchFields(MAX_FIELDS)
    if not terms:
        raise SearchNoField()
    return sorted(terms, key=lambda t: (t.leading_wildcard, t.wildcard, -len(t.literal_head)))


async def _check_driver(session: AsyncSession, term: Term) -> None:
    """A leading wildcard on the driving field needs the trigram index and some text to look up with it."""
    if not term.leading_wildcard:
        return
    if max(len(part) for part in term.parts) < MIN_INNER_TEXT:
        raise SearchLeadingWildcard(
            f"a value starting with * needs at least {MIN_INNER_TEXT} characters between wildcards"
        )
    if not await value_index.has_trigram_index(session):
        raise SearchLeadingWildcard(
            "this node cannot search for a value starting with * (no trigram index: PostgreSQL with pg_trgm); "
            "give the start of the value, as https://example.com/*"
        )


async def visibility_of(session: AsyncSession, actor: Actor) -> tuple[Visibility, set[str]]:
    """What the index may offer this caller (a superset for an authenticated one: public values, those under the
    prefixes its identities live in, those of records granted to it), and its grantee names."""
    if actor.is_node_admin:
        return Visibility(everything=True), set()
    if not actor.authenticated:
        return Visibility(), set()
    grantees = await readers.grantee_names(session, actor)
    prefixes = frozenset(canonical(i.partition(":")[2].partition("/")[0]) for i in actor.identities)
    granted = select(ReadGrant.handle_key).where(ReadGrant.grantee.in_(sorted(grantees))) if grantees else None
    return Visibility(prefixes=prefixes, granted=granted), grantees


async def _readable(
    session: AsyncSession, actor: Actor, record: HandleRecord, granted: dict[str, set[int]]
) -> list[Value]:
    """``resolver.records.visible_values`` with the grants read once for the page."""
    if actor.is_node_admin:
        return admin_view(record.record_values)
    if not actor.authenticated:
        return public_view(record.record_values)
    prefix, _, suffix = record.handle.partition("/")
    ident = Identifier(handle=record.handle, key=record.handle_key, prefix=prefix, suffix=suffix)
    if await may_read_all(session, actor, ident, record):
        return admin_view(record.record_values)
    extra = readers.restricted_view(record.record_values, granted.get(record.handle_key, set()))
    public = public_view(record.record_values)
    return sorted(public + extra, key=lambda v: v["index"]) if extra else public


async def search(
    session: AsyncSession,
    actor: Actor,
    terms: list[Term],
    *,
    prefix_key: str | None = None,
    offset: int = 0,
    limit: int = 1000,
    timeout_ms: int = 5000,
) -> list[Found]:
    """The records matching every term among the values the caller may read, at most ``limit`` index matches from
    ``offset`` on (a record is listed once; one whose match the caller may not read is left out, so a page may be
    shorter than ``limit``)."""
    await _check_driver(session, terms[0])
    visibility, grantees = await visibility_of(session, actor)
    keys = await value_index.candidates(
        session, terms, visibility, prefix_key=prefix_key, offset=offset, limit=limit, timeout_ms=timeout_ms
    )
    unique = list(dict.fromkeys(keys))
    records = await repository.get_many(session, unique)
    granted = await readers.granted(session, unique, grantees) if grantees else {}
    found: list[Found] = []
    for key in unique:
        record = records.get(key)
        if record is None or record.deleted:  # deleted after the index was read
            continue
        readable = await _readable(session, actor, record, granted)
        if all(any(term.matches(v) for v in readable) for term in terms):
            found.append(Found(record.handle, readable))
    return found


async def count(
    session: AsyncSession, actor: Actor, terms: list[Term], *, prefix_key: str, timeout_ms: int = 5000
) -> int:
    """How many records of the prefix have values matching every term that the index offers this caller."""
    await _check_driver(session, terms[0])
    visibility, _ = await visibility_of(session, actor)
    return await value_index.count(session, terms, visibility, prefix_key=prefix_key, timeout_ms=timeout_ms)
