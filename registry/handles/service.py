"""Writing identifier records: one set-based path for single writes and batches.

Every item is checked on its own (syntax, prefix, permission, template); a failed item is reported and never
written, the others go on. Writes are collected and executed at the end in a few statements: one multi-row
insert for new records, one history insert and one executemany update for changed records, one journal insert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.db import RecordChange, note_record_change
from foundation.errors import DomainError
from foundation.http.budgets import Budgets
from registry.enterprises.errors import EnterpriseNotApproved
from registry.enterprises.states import EnterpriseState
from registry.events import repository as trace_links
from registry.handles.errors import (
    HandleCreatedConcurrently,
    HandleDuplicate,
    HandleExists,
    HandleForbidden,
    HandleReserved,
    HandleTombstoned,
    IndexTaken,
    NoValuesAtIndexes,
    PrefixNotServed,
)
from registry.journal import repository as journal
from registry.kernel import records as repository
from registry.kernel.actor import ENTERPRISE_ADMIN, Actor
from registry.kernel.clock import utcnow
from registry.kernel.errors import IdentifierNotFound, RoleForbidden
from registry.kernel.models import HandleRecord
from registry.kernel.permissions import Perm, governing_admins, is_admin
from registry.kernel.syntax import NA_PREFIX_KEY, Identifier, canonical, is_under
from registry.kernel.values import Value, hash_secrets, same_values, stamp
from registry.prefixes import repository as prefixes
from registry.prefixes.errors import PrefixNotEnabled
from registry.prefixes.states import LABELS, PrefixState
from registry.templates import service as templates
from registry.templates.validation import CompiledTemplate, read_binding, template_key

CREATED_CONCURRENTLY = HandleCreatedConcurrently.name  # another transaction created it after this one looked
SECURITY_TYPES = frozenset({"HS_SECKEY", "HS_PUBKEY", "HS_ADMIN", "HS_VLIST"})


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


@dataclass
class _Pending:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    insert_outcomes: dict[str, Outcome] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    references: dict[str, list[str]] = field(default_factory=dict)  # record key -> identifiers it references


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class RecordWriter:
    """Writes records for one actor inside the caller's transaction (it flushes; the caller commits)."""

    def __init__(self, session: AsyncSession, settings: Settings, actor: Actor):
        self.session = session
        self.settings = settings
        self.actor = actor
        self.node_key = canonical(settings.node_prefix)
        self.now = utcnow()
        self.now_iso = _iso(self.now)
        self._prefix_checked: dict[str, DomainError | None] = {}
        self._records: dict[str, list[Value] | None] = {}
        self._admin_decisions: dict[tuple[tuple[tuple[str, int, str], ...], tuple[Perm, ...]], bool] = {}
        self._templates: dict[str, CompiledTemplate] = {}
        self._pending = _Pending()

    # ---- checks -------------------------------------------------------------------------------------------

    async def _check_prefix(self, ident: Identifier) -> None:
        """The node serves this prefix and it accepts writes."""
        key = ident.prefix_key
        if key not in self._prefix_checked:
            self._prefix_checked[key] = await self._prefix_problem(ident)
        problem = self._prefix_checked[key]
        if problem is not None:
            raise problem

    async def _prefix_problem(self, ident: Identifier) -> DomainError | None:
        key = ident.prefix_key
        if key == NA_PREFIX_KEY:
            if is_under(canonical(ident.suffix), self.node_key):
                return None
            return PrefixNotServed(f"prefix {ident.suffix} is not served by this node")
        if key == self.node_key:
            return None
        if not is_under(key, self.node_key):
            return PrefixNotServed(f"prefix {ident.prefix} is not served by this node (node prefix "
                                   f"{self.settings.node_prefix})")
        found = (await prefixes.with_enterprise_state(self.session, [key])).get(key)
        if found is None or found[0].state in (PrefixState.DELETED, PrefixState.REJECTED):
            return PrefixNotServed(f"prefix {ident.prefix} is not allocated on this node")
        prefix, enterprise_state = found
        if prefix.state != PrefixState.ENABLED:
            return PrefixNotEnabled(f"prefix {ident.prefix} is {LABELS[PrefixState(prefix.state)]} "
                                    f"(state {prefix.state}); it accepts no writes")
        if enterprise_state != EnterpriseState.APPROVED:
            return EnterpriseNotApproved(f"the enterprise holding {ident.prefix} is {enterprise_state}")
        return None

    def _check_not_reserved(self, ident: Identifier, action: str) -> None:
        if ident.prefix_key == NA_PREFIX_KEY:
            raise HandleReserved(f"NA handles are made and removed by prefix allocation; cannot {action} "
                                 f"{ident.handle}")
        if canonical(ident.suffix) == "admin":
            raise HandleReserved(f"{ident.handle} is the prefix administrator identity; cannot {action} it")

    async def _load_values(self, key: str) -> list[Value] | None:
        if key not in self._records:
            record = await repository.get(self.session, key)
            self._records[key] = None if record is None or record.deleted else record.record_values
        return self._records[key]

    async def _require(self, ident: Identifier, current: list[Value] | None, perms: list[Perm]) -> None:
        """The actor holds ``perms`` through the record's HS_ADMIN values, or else its prefix's NA handle."""
        if self.actor.is_node_admin:
            return
        admins = await governing_admins(ident, current, self._load_values)
        decision_key = (tuple(sorted((v["data"]["value"]["handle"], v["data"]["value"]["index"],
                                      v["data"]["value"].get("permissions", "")) for v in admins)), tuple(perms))
        if decision_key not in self._admin_decisions:
            self._admin_decisions[decision_key] = await is_admin(self.actor, admins, perms, self._load_values)
        if not self._admin_decisions[decision_key]:
            wanted = ", ".join(p.name.lower() for p in perms)
            raise HandleForbidden(self.actor.name, wanted, ident.handle)

    async def _validate_template(self, values: list[Value]) -> str | None:
        binding = read_binding(values)
        if binding is None:
            return None
        compiled = await templates.compiled(self.session, binding[0], binding[1], self._templates)
        compiled.validate(values, identifier_mode=self.settings.identifier_mode)
        return template_key(*binding)

    @staticmethod
    def _change_permissions(old: list[Value], new: list[Value]) -> list[Perm]:
        before = {v["index"]: v for v in old}
        after = {v["index"]: v for v in new}
        perms: set[Perm] = set()
        for index, value in after.items():
            admin = value["type"] == "HS_ADMIN" or (index in before and before[index]["type"] == "HS_ADMIN")
            if index not in before:
                perms.add(Perm.ADD_ADMIN if admin else Perm.ADD_VALUE)
            elif not same_values([before[index]], [value]):
                perms.add(Perm.MODIFY_ADMIN if admin else Perm.MODIFY_VALUE)
        for index, value in before.items():
            if index not in after:
                perms.add(Perm.REMOVE_ADMIN if value["type"] == "HS_ADMIN" else Perm.REMOVE_VALUE)
        return sorted(perms)

    # ---- collected writes ---------------------------------------------------------------------------------

    def _guard_security_values(self, ident: Identifier, old: list[Value], new: list[Value]) -> None:
        """Who authenticates and who administers (HS_SECKEY, HS_PUBKEY, HS_ADMIN, HS_VLIST) is changed only by an
        enterprise's administrators: a registrar acts as its prefix's admin identity, and must not make itself one
        (for good, with a key of its own) nor lock the administrators out."""
        if self.actor.is_node_admin or self.actor.role == ENTERPRISE_ADMIN:
            return
        before = {v["index"]: v for v in old if v["type"] in SECURITY_TYPES}
        after = {v["index"]: v for v in new if v["type"] in SECURITY_TYPES}
        if before.keys() != after.keys() or not all(same_values([before[i]], [after[i]]) for i in before):
            raise RoleForbidden(f"{self.actor.name} is a {self.actor.role}: secrets, keys and administrators of "
                                f"{ident.handle} are changed by the enterprise's administrators")

    def _stage_insert(self, ident: Identifier, values: list[Value], tkey: str | None, outcome: Outcome) -> None:
        self._guard_security_values(ident, [], values)
        hash_secrets(values)
        stamp(values, None, self.now_iso)
        self._pending.inserts.append({
            "handle_key": ident.key, "handle": ident.handle, "prefix_key": ident.prefix_key, "version": 1,
            "deleted": False, "record_values": values, "template_key": tkey, "created_at": self.now,
            "created_by": self.actor.name, "updated_at": self.now, "updated_by": self.actor.name})
        self._pending.insert_outcomes[ident.key] = outcome
        self._note_references(ident.key, values, tkey)

    def _note_references(self, key: str, values: list[Value], tkey: str | None) -> None:
        compiled = self._templates.get(tkey) if tkey else None
        self._pending.references[key] = compiled.references(values) if compiled else []

    def _stage_update(self, ident: Identifier, record: HandleRecord, values: list[Value], tkey: str | None,
                      deleted: bool, outcome: Outcome) -> None:
        self._guard_security_values(ident, [] if record.deleted else record.record_values, [] if deleted else values)
        if not deleted:
            hash_secrets(values, record.record_values)
            stamp(values, record.record_values, self.now_iso)
        version = record.version + 1
        self._pending.history.append({
            "handle_key": record.handle_key, "version": record.version, "handle": record.handle,
            "deleted": record.deleted, "record_values": record.record_values, "updated_at": record.updated_at,
            "updated_by": record.updated_by, "superseded_at": self.now})
        self._pending.updates.append({
            "handle_key": record.handle_key, "handle": record.handle if not record.deleted else ident.handle,
            "version": version, "deleted": deleted, "record_values": values, "template_key": tkey,
            "updated_at": self.now, "updated_by": self.actor.name})
        note_record_change(self.session, RecordChange(record.handle_key, version, deleted, values))
        self._note_references(record.handle_key, values, None if deleted else tkey)
        kind = "handle.deleted" if deleted else ("handle.created" if record.deleted else "handle.updated")
        self._journal(kind, ident, version, tkey)
        outcome.version, outcome.changed, outcome.created = version, True, record.deleted and not deleted
        self._records[record.handle_key] = None if deleted else values

    def _journal(self, kind: str, ident: Identifier, version: int, tkey: str | None) -> None:
        self._pending.journal.append(journal.entry(kind, ident.handle, ident.key, self.actor.name, version,
                                                   prefix=ident.prefix, template=tkey))

    async def _flush(self) -> None:
        pending = self._pending
        if pending.inserts:
            inserted = await repository.insert_new(self.session, pending.inserts)
            for row in pending.inserts:
                outcome = pending.insert_outcomes[row["handle_key"]]
                if row["handle_key"] in inserted:
                    outcome.created, outcome.changed, outcome.version = True, True, 1
                    self._journal("handle.created", _ident_of(row), 1, row["template_key"])
                    note_record_change(self.session, RecordChange(row["handle_key"], 1, False, row["record_values"]))
                else:  # created by a concurrent transaction after our look-up
                    outcome.error = HandleCreatedConcurrently(f"{row['handle']} was created concurrently; retry")
        await repository.save_history(self.session, pending.history)
        await repository.update_many(self.session, pending.updates)
        inserted_or_updated = {k: v for k, v in pending.references.items()
                               if k not in pending.insert_outcomes or pending.insert_outcomes[k].created}
        await trace_links.replace_references(self.session, inserted_or_updated,
                                             fresh=set(pending.insert_outcomes))
        await journal.append(self.session, pending.journal)
        self._pending = _Pending()

    # ---- operations ---------------------------------------------------------------------------------------

    async def _precheck(self, items: list[tuple[Identifier, list[Value]]],
                        check: Callable[[Identifier], Awaitable[None]] | None,
                        ) -> tuple[list[Outcome], list[tuple[Identifier, list[Value], Outcome, str | None]]]:
        """Checks that need no record: duplicates in the request, prefix, ``check``, template. Returns an outcome
        per item (failed ones carry their error) and the items that passed, with their template key."""
        outcomes: list[Outcome] = []
        passed: list[tuple[Identifier, list[Value], Outcome, str | None]] = []
        seen: set[str] = set()
        for ident, values in items:
            outcome = Outcome(ident.handle)
            outcomes.append(outcome)
            try:
                if ident.key in seen:
                    raise HandleDuplicate(ident.handle)
                seen.add(ident.key)
                await self._check_prefix(ident)
                if check is not None:
                    await check(ident)
                passed.append((ident, values, outcome, await self._validate_template(values)))
            except DomainError as exc:
                outcome.error = exc
        return outcomes, passed

    async def create(self, items: list[tuple[Identifier, list[Value]]], *, identical_ok: bool) -> list[Outcome]:
        """Create new records. ``identical_ok``: an existing live record with the same values counts as success
        (a retried batch); otherwise any existing record is an error (Handle ``overwrite=false``)."""
        async def may_create(ident: Identifier) -> None:
            self._check_not_reserved(ident, "create")
            await self._require(ident, None, [Perm.CREATE_HANDLE])

        outcomes, checked = await self._precheck(items, may_create)
        existing = await repository.get_many(self.session, [i.key for i, _, _, _ in checked], for_update=True)
        for ident, values, outcome, tkey in checked:
            record = existing.get(ident.key)
            try:
                if record is None:
                    self._stage_insert(ident, values, tkey, outcome)
                elif not record.deleted:
                    if identical_ok and same_values(record.record_values, values):
                        outcome.version = record.version
                    else:
                        raise HandleExists(ident.handle)
                elif not self.settings.allow_recreate:
                    raise HandleTombstoned(ident.handle)
                else:
                    self._stage_update(ident, record, values, tkey, False, outcome)
            except DomainError as exc:
                outcome.error = exc
        await self._flush()
        return outcomes

    async def replace(self, items: list[tuple[Identifier, list[Value]]], *, create_missing: bool) -> list[Outcome]:
        """Replace whole records (Handle PUT ``overwrite=true``; business update). Unchanged content is a no-op."""
        outcomes, checked = await self._precheck(items, None)
        existing = await repository.get_many(self.session, [i.key for i, _, _, _ in checked], for_update=True)
        for ident, values, outcome, tkey in checked:
            record = existing.get(ident.key)
            try:
                if record is None or record.deleted:
                    if not create_missing:
                        raise IdentifierNotFound(f"{ident.handle} does not exist")
                    self._check_not_reserved(ident, "create")
                    await self._require(ident, None, [Perm.CREATE_HANDLE])
                    if record is None:
                        self._stage_insert(ident, values, tkey, outcome)
                        continue
                    if not self.settings.allow_recreate:
                        raise HandleTombstoned(ident.handle)
                    self._stage_update(ident, record, values, tkey, False, outcome)
                    continue
                if same_values(record.record_values, values):
                    outcome.version = record.version
                    continue
                await self._require(ident, record.record_values,
                                    self._change_permissions(record.record_values, values))
                self._stage_update(ident, record, values, tkey, False, outcome)
            except DomainError as exc:
                outcome.error = exc
        await self._flush()
        return outcomes

    async def patch(self, ident: Identifier, values: list[Value], indexes: set[int], *, overwrite: bool) -> Outcome:
        """Handle PUT with ``index=``: add or replace the listed indexes, keep the others."""
        await self._check_prefix(ident)
        record = (await repository.get_many(self.session, [ident.key], for_update=True)).get(ident.key)
        if record is None or record.deleted:
            raise IdentifierNotFound(f"{ident.handle} does not exist")
        sent = {v["index"]: v for v in values if v["index"] in indexes}
        current = {v["index"]: v for v in record.record_values}
        if not overwrite:
            clash = sorted(set(sent) & set(current))
            if clash:
                raise IndexTaken(ident.handle, clash[0])
        merged = {**current, **sent}
        new_values = [dict(merged[i]) for i in sorted(merged)]
        return await self._apply_change(ident, record, new_values)

    async def remove_values(self, ident: Identifier, indexes: set[int]) -> Outcome:
        """Handle DELETE with ``index=``: remove the listed values."""
        await self._check_prefix(ident)
        record = (await repository.get_many(self.session, [ident.key], for_update=True)).get(ident.key)
        if record is None or record.deleted:
            raise IdentifierNotFound(f"{ident.handle} does not exist")
        if not indexes & {v["index"] for v in record.record_values}:
            raise NoValuesAtIndexes(ident.handle)
        new_values = [dict(v) for v in record.record_values if v["index"] not in indexes]
        return await self._apply_change(ident, record, new_values)

    async def _apply_change(self, ident: Identifier, record: HandleRecord, new_values: list[Value]) -> Outcome:
        outcome = Outcome(ident.handle, version=record.version)
        tkey = await self._validate_template(new_values)
        if same_values(record.record_values, new_values):
            return outcome
        await self._require(ident, record.record_values, self._change_permissions(record.record_values, new_values))
        self._stage_update(ident, record, new_values, tkey, False, outcome)
        await self._flush()
        return outcome

    async def delete(self, idents: list[Identifier], *, missing_ok: bool = False) -> list[Outcome]:
        """Delete records, leaving tombstones. ``missing_ok``: an already deleted record counts as success."""
        outcomes: list[Outcome] = []
        checked: list[tuple[Identifier, Outcome]] = []
        for ident in idents:
            outcome = Outcome(ident.handle)
            outcomes.append(outcome)
            try:
                await self._check_prefix(ident)
                self._check_not_reserved(ident, "delete")
            except DomainError as exc:
                outcome.error = exc
                continue
            checked.append((ident, outcome))
        existing = await repository.get_many(self.session, [i.key for i, _ in checked], for_update=True)
        for ident, outcome in checked:
            record = existing.get(ident.key)
            try:
                if record is None or (record.deleted and not missing_ok):
                    raise IdentifierNotFound(f"{ident.handle} does not exist")
                if record.deleted:
                    outcome.version = record.version
                    continue
                await self._require(ident, record.record_values, [Perm.DELETE_HANDLE])
                self._stage_update(ident, record, [], record.template_key, True, outcome)
            except DomainError as exc:
                outcome.error = exc
        await self._flush()
        return outcomes


def _ident_of(row: dict[str, Any]) -> Identifier:
    prefix, _, suffix = row["handle"].partition("/")
    return Identifier(handle=row["handle"], key=row["handle_key"], prefix=prefix, suffix=suffix)


async def history(session: AsyncSession, key: str) -> list[dict[str, Any]]:
    """Every version of a record, oldest first, as (version, deleted, values, who, when)."""
    versions = [{"version": h.version, "deleted": h.deleted, "values": h.record_values, "updatedBy": h.updated_by,
                 "updatedAt": _iso(h.updated_at)} for h in await repository.history_of(session, key)]
    current = await repository.get(session, key)
    if current is not None:
        versions.append({"version": current.version, "deleted": current.deleted, "values": current.record_values,
                         "updatedBy": current.updated_by, "updatedAt": _iso(current.updated_at)})
    return versions


def charge_registrations(budgets: Budgets, outcomes: Iterable[Outcome]) -> None:
    """Charge the identifiers just created to their enterprise prefixes' daily quota, before the transaction
    commits: over the quota the request is refused (IDIS 604) and rolls back whole."""
    created = Counter(canonical(o.handle.partition("/")[0]) for o in outcomes if o.created)
    for prefix, count in created.items():
        budgets.charge_registrations(prefix, count)
