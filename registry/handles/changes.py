"""The changes of a write, collected and executed at its end in a few statements: one multi-row insert for new
records, one history insert and one executemany update for changed records, the trace references, one journal
insert. New and changed records are noted for the cache's commit hooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.crypto.secret_seal import seal_for_key_file
from foundation.db import RecordChange, note_record_change
from registry.events import repository as trace_links
from registry.handles.checks import WriteChecks
from registry.handles.errors import HandleCreatedConcurrently
from registry.handles.outcome import Outcome
from registry.journal import repository as journal
from registry.kernel import records as repository
from registry.kernel.clock import utcnow
from registry.kernel.models import HandleRecord
from registry.kernel.syntax import Identifier
from registry.kernel.values import Value, hash_secrets, stamp


@dataclass
class _Pending:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    insert_outcomes: dict[str, Outcome] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    references: dict[str, list[str]] = field(default_factory=dict)  # record key -> identifiers it references


def iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ChangeSet:
    """What one write will change, staged item by item and flushed once (the caller commits)."""

    def __init__(self, session: AsyncSession, checks: WriteChecks):
        self.session = session
        self.checks = checks
        self.now = utcnow()
        self.now_iso = iso_utc(self.now)
        self._pending = _Pending()
        sealer = seal_for_key_file(checks.settings.node_key_file)
        self.seal = sealer.seal if sealer is not None else None

    def stage_insert(self, ident: Identifier, values: list[Value], tkey: str | None, outcome: Outcome) -> None:
        self.checks.keep_prefix_admin(ident, values)
        self.checks.guard_security_values(ident, [], values)
        hash_secrets(values, seal=self.seal)
        stamp(values, None, self.now_iso)
        self._pending.inserts.append(
            {
                "handle_key": ident.key,
                "handle": ident.handle,
                "prefix_key": ident.prefix_key,
                "version": 1,
                "deleted": False,
                "record_values": values,
                "template_key": tkey,
                "created_at": self.now,
                "created_by": self.checks.actor.name,
                "updated_at": self.now,
                "updated_by": self.checks.actor.name,
            }
        )
        self._pending.insert_outcomes[ident.key] = outcome
        self._note_references(ident.key, values, tkey)

    def _note_references(self, key: str, values: list[Value], tkey: str | None) -> None:
        compiled = self.checks.templates.get(tkey) if tkey else None
        self._pending.references[key] = compiled.references(values) if compiled else []

    def stage_update(
        self,
        ident: Identifier,
        record: HandleRecord,
        values: list[Value],
        tkey: str | None,
        deleted: bool,
        outcome: Outcome,
    ) -> None:
        old = [] if record.deleted else record.record_values
        self.checks.keep_prefix_admin(ident, [] if deleted else values)
        self.checks.guard_security_values(ident, old, [] if deleted else values)
        if not deleted:
            hash_secrets(values, record.record_values, self.seal)
            stamp(values, record.record_values, self.now_iso)
        version = record.version + 1
        self._pending.history.append(
            {
                "handle_key": record.handle_key,
                "version": record.version,
                "handle": record.handle,
                "deleted": record.deleted,
                "record_values": record.record_values,
                "updated_at": record.updated_at,
                "updated_by": record.updated_by,
                "superseded_at": self.now,
            }
        )
        self._pending.updates.append(
            {
                "handle_key": record.handle_key,
                "handle": record.handle if not record.deleted else ident.handle,
                "version": version,
                "deleted": deleted,
                "record_values": values,
                "template_key": tkey,
                "updated_at": self.now,
                "updated_by": self.checks.actor.name,
            }
        )
        note_record_change(self.session, RecordChange(record.handle_key, version, deleted, values))
        self._note_references(record.handle_key, values, None if deleted else tkey)
        kind = "handle.deleted" if deleted else ("handle.created" if record.deleted else "handle.updated")
        self._journal(kind, ident, version, tkey)
        outcome.version, outcome.changed, outcome.created = version, True, record.deleted and not deleted
        self.checks.records[record.handle_key] = None if deleted else values

    def _journal(self, kind: str, ident: Identifier, version: int, tkey: str | None) -> None:
        self._pending.journal.append(
            journal.entry(
                kind, ident.handle, ident.key, self.checks.actor.name, version, prefix=ident.prefix, template=tkey
            )
        )

    async def flush(self) -> None:
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
        inserted_or_updated = {
            k: v
            for k, v in pending.references.items()
            if k not in pending.insert_outcomes or pending.insert_outcomes[k].created
        }
        await trace_links.replace_references(self.session, inserted_or_updated, fresh=set(pending.insert_outcomes))
        await journal.append(self.session, pending.journal)
        self._pending = _Pending()


def _ident_of(row: dict[str, Any]) -> Identifier:
    prefix, _, suffix = row["handle"].partition("/")
    return Identifier(handle=row["handle"], key=row["handle_key"], prefix=prefix, suffix=suffix)
