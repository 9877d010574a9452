"""Importing a file of identifiers: rows in batches through the business API's write path, one transaction per
batch, a checkpoint after each commit.

Resuming is safe twice over: the checkpoint skips what was committed, and a batch committed just before a crash
(its checkpoint not yet written) is sent again and found identical, which the write path counts as success, so no
identifier is doubled and no imported row is reported as failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.db import Database
from foundation.http.budgets import Budgets
from registry.bulk import acting
from registry.bulk.checkpoint import Checkpoint, Counts, remove
from registry.bulk.errors import BadBatchSize, InputChanged, NoInput
from registry.bulk.mapping import RowMapper, RowProblem, load_mapping
from registry.bulk.report import ErrorReport
from registry.bulk.source import Source, format_of
from registry.handles.items import TemplateLocator, write_items
from registry.handles.outcome import charge_registrations
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.kernel.identifiers import parse_identifier
from registry.kernel.syntax import Identifier, canonical
from registry.statistics import repository as statistics
from registry.templates import service as templates

# Errors that are a state of the prefix or the enterprise, not of a row (e.g. the prefix was disabled meanwhile).
_STOPS = frozenset({"prefix.not_enabled", "enterprise.not_approved"})


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    prefix: str
    template: str
    template_prefix: str | None = None  # default: the prefix's own template, else the node's (as the API looks)
    mapping: Path | None = None
    format: str | None = None  # default: from the file's extension
    batch: int = 2000
    errors: Path | None = None  # default: <file stem>.errors.csv beside the file
    checkpoint: Path | None = None  # default: <file name>.checkpoint beside the file
    acting_as: str | None = None  # an account of the enterprise holding the prefix
    operator: str = "unknown"  # who runs the command, recorded with the enterprise's user
    encoding: str = "utf-8"
    restart: bool = False  # ignore a checkpoint and read from the first row

    @property
    def errors_path(self) -> Path:
        return self.errors or self.path.with_name(self.path.stem + ".errors.csv")

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint or self.path.with_name(self.path.name + ".checkpoint")


@dataclass
class Progress:
    """Where an import stands, after each committed batch."""

    position: int  # bytes of the file committed
    size: int  # bytes of the file
    counts: Counts
    resumed_from_row: int = 0  # 0: started from the first row
    row: int = 0
    rows_this_run: int = 0
    done: bool = False
    actor: str = ""
    errors_path: Path = field(default_factory=Path)
    checkpoint_path: Path = field(default_factory=Path)


class Importer:
    """One run of an import (``prepare`` checks everything that can be checked before the first row)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        request: ImportRequest,
        on_progress: Callable[[Progress], None] | None = None,
        budgets: Budgets | None = None,
    ):
        self.db = db
        self.budgets = budgets  # the prefix's daily registration quota, shared with the node through Redis
        self.settings = settings
        self.request = request
        self.on_progress = on_progress or (lambda _: None)
        self.actor: Actor | None = None
        self.mapper: RowMapper | None = None
        self.source: Source | None = None
        self.report: ErrorReport | None = None
        self.checkpoint: Checkpoint | None = None
        self.progress: Progress | None = None

    async def prepare(self) -> Progress:
        request = self.request
        if not 1 <= request.batch <= self.settings.batch_max_items:
            raise BadBatchSize(self.settings.batch_max_items)
        if not request.path.is_file():
            raise NoInput(request.path)
        fmt = format_of(request.path, request.format)
        mapping = load_mapping(request.mapping) if request.mapping else None
        async with self.db.unit_of_work() as session:
            self.actor = await acting.enterprise_actor(
                session, self.settings, request.prefix, request.acting_as, request.operator
            )
            template_prefix, items = await _template(session, self.settings, request)
        self.mapper = RowMapper(request.prefix, request.template, template_prefix, items, mapping)
        options = {
            "prefix": canonical(request.prefix),
            "template": request.template,
            "templatePrefix": canonical(template_prefix),
            "format": fmt,
            "encoding": request.encoding,
            "mapping": hashlib.sha256(request.mapping.read_bytes()).hexdigest() if request.mapping else None,
        }
        saved = None if request.restart else Checkpoint.load(request.checkpoint_path)
        if saved is not None:
            saved.check_resumable(options, request.checkpoint_path)
        self.source = self._open(fmt, saved)
        try:
            if self.source.columns is not None:
                self.mapper.bind_header(self.source.columns)
            self.report = ErrorReport(request.errors_path, keep_bytes=saved.errors_bytes if saved else None)
        except BaseException:
            self.source.close()
            raise
        self.checkpoint = saved or Checkpoint(options)
        self.progress = Progress(
            self.source.position,
            self.source.size,
            self.checkpoint.counts,
            resumed_from_row=saved.row if saved else 0,
            row=self.source.row,
            actor=self.actor.name,
            errors_path=request.errors_path,
            checkpoint_path=request.checkpoint_path,
        )
        return self.progress

    def _open(self, fmt: str, saved: Checkpoint | None) -> Source:
        request = self.request
        if saved is None:
            return Source(request.path, fmt, encoding=request.encoding)
        source = Source(request.path, fmt, encoding=request.encoding, offset=saved.offset, row=saved.row)
        if source.digest() != saved.digest:
            source.close()
            raise InputChanged(
                f"{request.path.name} changed in the rows already imported (up to row {saved.row}): "
                "pass --restart to import it from the first row (rows already imported are "
                "recognised, not doubled)"
            )
        return source

    async def run(self) -> Progress:
        """Import every row after the checkpoint; the checkpoint is removed once the whole file is done."""
        if self.progress is None:
            await self.prepare()
        assert self.source and self.mapper and self.report and self.progress
        if self.budgets is not None:
            await self.budgets.refresh_registrations(canonical(self.request.prefix), self._registered_today)
        items: list[dict[str, Any]] = []
        numbers: list[int] = []
        problems: list[tuple[int, str, str, str]] = []
        try:
            for row in self.source:
                self.progress.rows_this_run += 1
                if row.problem is not None:
                    problems.append((row.number, "", "bulk.unreadable_row", row.problem))
                else:
                    assert row.fields is not None  # a readable row has its fields
                    try:
                        items.append(self.mapper.item(row.fields))
                        numbers.append(row.number)
                    except RowProblem as exc:
                        problems.append((row.number, self.mapper.identifier_of(row.fields), exc.name, exc.reason))
                if len(items) + len(problems) >= self.request.batch:
                    await self._commit(items, numbers, problems)
                    items, numbers, problems = [], [], []
            await self._commit(items, numbers, problems)
        finally:
            self.source.close()
            self.report.close()
        remove(self.request.checkpoint_path)
        self.progress.done = True
        self.on_progress(self.progress)
        return self.progress

    async def _registered_today(self) -> int:
        async with self.db.read_session() as session:
            today = await statistics.registrations_on(session, utcnow().date())
        return today.get(canonical(self.request.prefix), 0)

    async def _commit(
        self, items: list[dict[str, Any]], numbers: list[int], problems: list[tuple[int, str, str, str]]
    ) -> None:
        """Write one batch in one transaction, then its failures, then the checkpoint (in that order: a crash in
        between only makes the next run send this batch again)."""
        assert self.source and self.report and self.checkpoint and self.progress and self.actor
        counts = self.checkpoint.counts
        failures = list(problems)
        if items:
            async with self.db.unit_of_work() as session:
                outcomes = await write_items(session, self.settings, self.actor, items, "create", parse_identifier)
                if self.budgets is not None:  # over the quota the batch rolls back and the import stops, resumable
                    charge_registrations(self.budgets, outcomes)
            if self.budgets is not None:
                await self.budgets.flush()
            stop = next((o.error for o in outcomes if o.error is not None and o.error.name in _STOPS), None)
            if stop is not None:  # the prefix refuses every row now: stop here, resumable, not a report of them all
                raise stop
            for number, outcome in zip(numbers, outcomes, strict=True):
                if outcome.error is not None:
                    failures.append((number, outcome.handle, outcome.error.name, outcome.error.message))
                elif outcome.created:
                    counts.created += 1
                else:
                    counts.present += 1
        for failure in sorted(failures):
            self.report.add(*failure)
        counts.failed += len(failures)
        counts.rows = counts.created + counts.present + counts.failed
        self.checkpoint.offset, self.checkpoint.row = self.source.position, self.source.row
        self.checkpoint.digest = self.source.digest()
        self.checkpoint.errors_bytes = self.report.flush()
        self.checkpoint.save(self.request.checkpoint_path)
        self.progress.position, self.progress.row = self.source.position, self.source.row
        self.on_progress(self.progress)


async def _template(
    session: AsyncSession, settings: Settings, request: ImportRequest
) -> tuple[str, list[dict[str, Any]]]:
    """The template's prefix, found as the business API finds it, and its items."""
    # The locator only looks at the identifier's prefix: any suffix under the import's prefix will do.
    probe = Identifier(
        handle=f"{request.prefix}/x", key=canonical(f"{request.prefix}/x"), prefix=request.prefix, suffix="x"
    )
    prefix = await TemplateLocator(session, settings).locate(probe, request.template, request.template_prefix)
    return prefix, (await templates.get(session, prefix, request.template))["items"]
