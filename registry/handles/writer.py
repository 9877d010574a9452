"""Writing identifier records: one set-based path for single writes and batches.

Every item is checked on its own (``checks``); a failed item is reported and never written, the others go on.
The changes are collected and executed at the end in a few statements (``changes``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.errors import DomainError
from registry.handles.changes import ChangeSet
from registry.handles.checks import WriteChecks
from registry.handles.errors import (
    HandleDuplicate,
    HandleExists,
    HandleTombstoned,
    IndexMismatch,
    IndexTaken,
    NoValuesAtIndexes,
)
from registry.handles.outcome import Outcome
from registry.kernel import records as repository
from registry.kernel.actor import Actor
from registry.kernel.errors import IdentifierNotFound
from registry.kernel.models import HandleRecord
from registry.kernel.permissions import Perm
from registry.kernel.syntax import Identifier
from registry.kernel.values import Value, same_values


class RecordWriter:
    """Writes records for one actor inside the caller's transaction (it flushes; the caller commits)."""

    def __init__(self, session: AsyncSession, settings: Settings, actor: Actor):
        self.session = session
        self.settings = settings
        self.actor = actor
        self.checks = WriteChecks(session, settings, actor)
        self.changes = ChangeSet(session, self.checks)

    async def _precheck(
        self,
        items: list[tuple[Identifier, list[Value]]],
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
                await self.checks.check_prefix(ident)
                if check is not None:
                    await check(ident)
                template = await self.checks.validate_template(values)
                await self.checks.check_aliases(ident, values)
                passed.append((ident, values, outcome, template))
            except DomainError as exc:
                outcome.error = exc
        return outcomes, passed

    async def create(self, items: list[tuple[Identifier, list[Value]]], *, identical_ok: bool) -> list[Outcome]:
        """Create new records. ``identical_ok``: an existing live record with the same values counts as success
        (a retried batch); otherwise any existing record is an error (Handle ``overwrite=false``)."""

        async def may_create(ident: Identifier) -> None:
            self.checks.check_not_reserved(ident, "create")
            await self.checks.require(ident, None, [Perm.CREATE_HANDLE])

        outcomes, checked = await self._precheck(items, may_create)
        existing = await repository.get_many(self.session, [i.key for i, _, _, _ in checked], for_update=True)
        for ident, values, outcome, tkey in checked:
            record = existing.get(ident.key)
            try:
                if record is None or record.deleted:
                    await self.checks.check_signatures(ident, None, values)
                if record is None:
                    self.changes.stage_insert(ident, values, tkey, outcome)
                elif not record.deleted:
                    if identical_ok and same_values(record.record_values, values):
                        outcome.version = record.version
                    else:
                        raise HandleExists(ident.handle)
                elif not self.settings.allow_recreate:
                    raise HandleTombstoned(ident.handle)
                else:
                    self.changes.stage_update(ident, record, values, tkey, False, outcome)
            except DomainError as exc:
                outcome.error = exc
        await self.changes.flush()
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
                    self.checks.check_not_reserved(ident, "create")
                    await self.checks.require(ident, None, [Perm.CREATE_HANDLE])
                    await self.checks.check_signatures(ident, None, values)
                    if record is None:
                        self.changes.stage_insert(ident, values, tkey, outcome)
                        continue
                    if not self.settings.allow_recreate:
                        raise HandleTombstoned(ident.handle)
                    self.changes.stage_update(ident, record, values, tkey, False, outcome)
                    continue
                if same_values(record.record_values, values, unsealed_differs=self.changes.seal is not None):
                    outcome.version = record.version
                    continue
                await self.checks.require(
                    ident, record.record_values, self.checks.change_permissions(record.record_values, values)
                )
                await self.checks.check_signatures(ident, record.record_values, values)
                self.changes.stage_update(ident, record, values, tkey, False, outcome)
            except DomainError as exc:
                outcome.error = exc
        await self.changes.flush()
        return outcomes

    async def patch(
        self, ident: Identifier, values: list[Value], indexes: set[int], *, overwrite: bool, existing: bool = False
    ) -> Outcome:
        """Handle PUT with ``index=``: add or replace the listed indexes, keep the others. The listed indexes are
        exactly those of the values sent (Handle.Net: "the indices must match the indices of the handle values in
        the request entity"). ``existing``: every listed index must already hold a value (a modification)."""
        sent = {v["index"]: v for v in values}
        if set(sent) != indexes:
            raise IndexMismatch(ident.handle, sorted(indexes - set(sent)), sorted(set(sent) - indexes))
        await self.checks.check_prefix(ident)
        record = (await repository.get_many(self.session, [ident.key], for_update=True)).get(ident.key)
        if record is None or record.deleted:
            raise IdentifierNotFound(f"{ident.handle} does not exist")
        current = {v["index"]: v for v in record.record_values}
        if existing and not set(sent) <= set(current):
            raise NoValuesAtIndexes(ident.handle)
        if not overwrite:
            clash = sorted(set(sent) & set(current))
            if clash:
                raise IndexTaken(ident.handle, clash[0])
        merged = {**current, **sent}
        new_values = [dict(merged[i]) for i in sorted(merged)]
        return await self._apply_change(ident, record, new_values)

    async def remove_values(self, ident: Identifier, indexes: set[int]) -> Outcome:
        """Handle DELETE with ``index=``: remove the listed values."""
        await self.checks.check_prefix(ident)
        record = (await repository.get_many(self.session, [ident.key], for_update=True)).get(ident.key)
        if record is None or record.deleted:
            raise IdentifierNotFound(f"{ident.handle} does not exist")
        if not indexes & {v["index"] for v in record.record_values}:
            raise NoValuesAtIndexes(ident.handle)
        new_values = [dict(v) for v in record.record_values if v["index"] not in indexes]
        return await self._apply_change(ident, record, new_values)

    async def _apply_change(self, ident: Identifier, record: HandleRecord, new_values: list[Value]) -> Outcome:
        outcome = Outcome(ident.handle, version=record.version)
        tkey = await self.checks.validate_template(new_values)
        await self.checks.check_aliases(ident, new_values)
        if same_values(record.record_values, new_values, unsealed_differs=self.changes.seal is not None):
            return outcome
        perms = self.checks.change_permissions(record.record_values, new_values)
        await self.checks.require(ident, record.record_values, perms)
        await self.checks.check_signatures(ident, record.record_values, new_values)
        self.changes.stage_update(ident, record, new_values, tkey, False, outcome)
        await self.changes.flush()
        return outcome

    async def delete(self, idents: list[Identifier], *, missing_ok: bool = False) -> list[Outcome]:
        """Delete records, leaving tombstones. ``missing_ok``: an already deleted record counts as success."""
        outcomes: list[Outcome] = []
        checked: list[tuple[Identifier, Outcome]] = []
        for ident in idents:
            outcome = Outcome(ident.handle)
            outcomes.append(outcome)
            try:
                await self.checks.check_prefix(ident)
                self.checks.check_not_reserved(ident, "delete")
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
                await self.checks.require(ident, record.record_values, [Perm.DELETE_HANDLE])
                self.changes.stage_update(ident, record, [], record.template_key, True, outcome)
            except DomainError as exc:
                outcome.error = exc
        await self.changes.flush()
        return outcomes
