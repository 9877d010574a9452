"""The value index: one row per searchable value of every live record, for search by value (reverse look-up).

A searchable value is a ``string``-format value other than ``HS_SECKEY``. Its row keeps the type and the first
``VALUE_KEY_CHARS`` characters of the value, both case-folded, whether anyone may read it (Handle's public-read
bit) and the record's prefix. ``records.insert_new`` and ``records.update_many`` (every write of a record goes
through them) keep the rows exact in the writer's own transaction. See docs/adr/0011-search-by-value.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from registry.kernel.errors import SearchTooBroad
from registry.kernel.models import IndexedValue
from registry.kernel.values import DEFAULT_PERMISSIONS, Value

VALUE_KEY_CHARS = 256  # a value's indexed head; longer values are matched in full on the record
TRIGRAM_INDEX = "ix_handle_value_index_value_trgm"


_TABLE = IndexedValue.__table__


def fold(text: str) -> str:
    """The case-folded form searched and stored (Python's, on both sides: never the database's locale)."""
    return text.lower()


def searchable_text(value: Value) -> str | None:
    """The text a value is found by, or None when it is not searchable."""
    data = value.get("data")
    if value.get("type") == "HS_SECKEY" or not isinstance(data, dict) or data.get("format") != "string":
        return None
    text = data.get("value")
    return text if isinstance(text, str) else None


def is_public(value: Value) -> bool:
    return str(value.get("permissions", DEFAULT_PERMISSIONS))[2:3] == "1"


def entries(handle_key: str, prefix_key: str, values: Sequence[Value]) -> list[dict[str, Any]]:
    """The index rows of one live record."""
    rows = []
    for value in values:
        text = searchable_text(value)
        if text is None:
            continue
        rows.append(
            {
                "handle_key": handle_key,
                "value_index": value["index"],
                "prefix_key": prefix_key,
                "type_key": fold(value["type"]),
                "value_key": fold(text)[:VALUE_KEY_CHARS],
                "public_read": is_public(value),
            }
        )
    return rows


_PG_INSERT = (
    "INSERT INTO handle_value_index (handle_key, value_index, prefix_key, type_key, value_key, public_read) "
    "SELECT * FROM unnest($1::text[], $2::bigint[], $3::varchar[], $4::text[], $5::text[], $6::bool[])"
)
_PG_DELETE = "DELETE FROM handle_value_index WHERE handle_key = ANY($1::text[])"


async def _driver(session: AsyncSession) -> Any:
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


async def write(session: AsyncSession, replaced: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Drop the rows of the records ``replaced`` and add ``rows``, in the session's transaction."""
    if not replaced and not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        driver = await _driver(session)
        if replaced:
            await driver.execute(_PG_DELETE, list(replaced))
        if rows:
            columns = ("handle_key", "value_index", "prefix_key", "type_key", "value_key", "public_read")
            await driver.execute(_PG_INSERT, *[[r[c] for r in rows] for c in columns])
        return
    if replaced:
        await session.execute(delete(_TABLE).where(_TABLE.c.handle_key.in_(list(replaced))))
    if rows:
        await session.execute(insert(_TABLE), rows)


# --- look-up ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One searched field: a folded type and a folded pattern whose ``*`` match any characters."""

    type_key: str
    pattern: str

    def matches(self, value: Value) -> bool:
        """Whether ``value`` (its whole text, not only its indexed head) matches."""
        text = searchable_text(value)
        if text is None or fold(str(value["type"])) != self.type_key:
            return False
        return _compiled(self.pattern).fullmatch(fold(text)) is not None

    @property
    def parts(self) -> list[str]:
        return self.pattern.split("*")

    @property
    def wildcard(self) -> bool:
        return "*" in self.pattern

    @property
    def literal_head(self) -> str:
        """What every match starts with."""
        return self.parts[0]

    @property
    def leading_wildcard(self) -> bool:
        """The pattern starts with ``*`` and has literal text after it (a bare ``*`` matches everything)."""
        return self.wildcard and not self.literal_head and any(self.parts)


@dataclass(frozen=True, eq=False)
class Visibility:
    """Which index rows a caller may find: every row (node administrator), public rows, or public rows plus those
    under some prefixes and of the records ``granted`` selects (a superset, checked exactly on the records)."""

    everything: bool = False
    prefixes: frozenset[str] = frozenset()
    granted: Select[Any] | None = None  # keys of records with read grants to the caller


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _successor(head: str) -> str | None:
    """The least string greater than every string starting with ``head``, in code point order (None: no such
    string, ``head`` being all U+10FFFF)."""
    stem = head.rstrip("\U0010ffff")
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    return stem[:-1] + chr(0xE000 if 0xD800 <= following <= 0xDFFF else following)


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _matches(row: Any, term: Term, *, driving: bool) -> ColumnElement[bool]:
    """A condition on ``row`` every value matching ``term`` meets (checked in full on the record afterwards);
    ``driving``: the term the index look-up starts from."""
    conditions: list[ColumnElement[bool]] = [row.type_key == term.type_key]
    if not term.wildcard:
        conditions.append(row.value_key == term.pattern[:VALUE_KEY_CHARS])
        return and_(*conditions)
    head = term.literal_head[:VALUE_KEY_CHARS]
    if head:  # a range of the (type, value) index
        conditions.append(row.value_key >= head)
        upper = _successor(head)
        if upper is not None:
            conditions.append(row.value_key < upper)
    if term.pattern.rstrip("*") != term.literal_head:  # more than a prefix: the rest on the indexed head
        like = row.value_key.like(_like(term.pattern), escape="\\")
        # a value longer than its indexed head may match beyond it: such rows are kept and checked on the record;
        # a driving leading wildcard needs the LIKE alone for the trigram index (a documented limit)
        long = func.length(row.value_key) >= VALUE_KEY_CHARS
        conditions.append(like if driving and not head else or_(like, long))
    return and_(*conditions)


def _visible(row: Any, visibility: Visibility) -> ColumnElement[bool] | None:
    if visibility.everything:
        return None
    conditions: list[ColumnElement[bool]] = [row.public_read.is_(True)]
    if visibility.prefixes:
        conditions.append(row.prefix_key.in_(sorted(visibility.prefixes)))
    if visibility.granted is not None:
        conditions.append(row.handle_key.in_(visibility.granted))
    return or_(*conditions)


def _where(
    row: Any, terms: Sequence[Term], visibility: Visibility, prefix_key: str | None
) -> list[ColumnElement[bool]]:
    """The first term drives the index; the others are checked per candidate on the (key, index) primary key."""
    first, *others = terms
    where = [_matches(row, first, driving=True)]
    if prefix_key is not None:
        where.append(row.prefix_key == prefix_key)
    visible = _visible(row, visibility)
    if visible is not None:
        where.append(visible)
    for term in others:
        other = aliased(IndexedValue)
        condition = [other.handle_key == row.handle_key, _matches(other, term, driving=False)]
        other_visible = _visible(other, visibility)
        if other_visible is not None:
            condition.append(other_visible)
        where.append(exists().where(*condition))
    return where


def search_query(
    terms: Sequence[Term], visibility: Visibility, *, prefix_key: str | None, offset: int, limit: int
) -> Select[Any]:
    """The statement of ``candidates`` (also what EXPLAIN is shown for in the tests and ADR 0011)."""
    row = aliased(IndexedValue)
    where = _where(row, terms, visibility, prefix_key)
    # the type (and prefix) are fixed: the index gives this order, and LIMIT stops its scan early
    return select(row.handle_key).where(*where).order_by(row.value_key, row.handle_key).offset(offset).limit(limit)


async def candidates(
    session: AsyncSession,
    terms: Sequence[Term],
    visibility: Visibility,
    *,
    prefix_key: str | None,
    offset: int,
    limit: int,
    timeout_ms: int,
) -> list[str]:
    """Keys of records with a value matching each term that the caller may find, in the order of the first term's
    matched value (then key). A record appears once per matching value of the first term, as in the servlet's SQL."""
    query = search_query(terms, visibility, prefix_key=prefix_key, offset=offset, limit=limit)
    return list(await _bounded(session, query, timeout_ms))


_QUERY_CANCELED = "57014"


async def _bounded(session: AsyncSession, query: Select[Any], timeout_ms: int) -> list[Any]:
    """The query's first column, within ``timeout_ms`` on PostgreSQL (a search too broad for the index is refused
    rather than left to run); SQLite, the embedded node's, runs it unbounded."""
    if session.get_bind().dialect.name != "postgresql":
        return list((await session.execute(query)).scalars())
    await session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
    try:
        rows = list((await session.execute(query)).scalars())
    except DBAPIError as exc:
        if _QUERY_CANCELED in (getattr(exc.orig, "sqlstate", None), getattr(exc.orig, "pgcode", None)):
            raise SearchTooBroad(timeout_ms) from None
        raise
    await session.execute(text("SET LOCAL statement_timeout TO DEFAULT"))
    return rows


async def count(
    session: AsyncSession, terms: Sequence[Term], visibility: Visibility, *, prefix_key: str, timeout_ms: int
) -> int:
    """How many distinct records of the prefix ``candidates`` would find (the listing's total)."""
    row = aliased(IndexedValue)
    query = select(func.count(func.distinct(row.handle_key))).where(*_where(row, terms, visibility, prefix_key))
    return int((await _bounded(session, query, timeout_ms))[0])


async def has_trigram_index(session: AsyncSession) -> bool:
    """Whether the index can serve a leading wildcard (PostgreSQL with pg_trgm, made by migration 0013)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    found = await session.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = :name"), {"name": TRIGRAM_INDEX})
    return found.first() is not None
