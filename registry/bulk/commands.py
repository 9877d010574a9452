"""``secnode import``, ``secnode export`` and ``secnode export-events``: options, progress display and exit codes.

Exit codes: 0 done; 1 refused or stopped by an error (what was committed stays; rerun to resume); 3 done, but some
rows are in the error report (import) or some records could not be written as rows (export); 130 interrupted.
"""

from __future__ import annotations

import asyncio
import gc
import getpass
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from foundation.config import Settings, get_settings

if TYPE_CHECKING:
    from registry.bulk.exporter import ExportRequest, ExportResult
    from registry.bulk.importer import ImportRequest
    from registry.bulk.importer import Progress as ImportProgress

DONE, FAILED, PARTLY, INTERRUPTED = 0, 1, 3, 130
NOTHING = "nothing was committed"

# Progress and messages go to stderr: ``secnode export`` may be writing the data itself to stdout.
console = Console(stderr=True, soft_wrap=True)  # paths and identifiers are never broken

OpenDatabase = Callable[[Settings], AbstractAsyncContextManager[Any]]
Audit = Callable[[list[str], int], None]


def register(app: typer.Typer, open_database: OpenDatabase, audit: Audit) -> None:
    """Add the commands to ``app``; ``open_database(settings)`` gives the database to write through (the
    application's assembly wires its commit hooks), and ``audit(words, exit_code)`` writes a command's entry in
    the audit log, as for the node administrator's other commands: the command and its positional arguments, never
    its options (they may carry secrets)."""

    @app.command("import")
    def import_file(
        file: Path = typer.Argument(..., help="CSV with a header row, or JSON Lines (one object per line)"),
        prefix: str = typer.Option(..., help="enterprise prefix the identifiers are registered under"),
        template: str = typer.Option(..., help="template version the rows follow, e.g. steel-coil-1.0"),
        template_prefix: str | None = typer.Option(
            None, help="prefix of the template (default: the prefix's own template, else the node's seed template)"
        ),
        mapping: Path | None = typer.Option(
            None, help='JSON {"column": "item type or name" | "suffix" | "handle" | null}'
        ),
        fmt: str | None = typer.Option(None, "--format", help="csv | jsonl (default: from the extension)"),
        batch: int = typer.Option(2000, help="rows per transaction (at most the business API's batch limit)"),
        errors: Path | None = typer.Option(None, help="error report (default: <file stem>.errors.csv beside it)"),
        checkpoint: Path | None = typer.Option(None, help="checkpoint (default: <file>.checkpoint beside it)"),
        acting_as: str | None = typer.Option(
            None, "--as", help="the enterprise's user to act as (default: its only account)"
        ),
        encoding: str = typer.Option("utf-8", help="text encoding of the file, e.g. gbk"),
        restart: bool = typer.Option(False, help="ignore the checkpoint and read from the first row"),
    ) -> None:
        """Register identifiers from a spreadsheet (CSV) or JSON Lines file; resumable after an interruption."""
        from registry.bulk.importer import ImportRequest

        request = ImportRequest(
            path=file,
            prefix=prefix,
            template=template,
            template_prefix=template_prefix,
            mapping=mapping,
            format=fmt,
            batch=batch,
            errors=errors,
            checkpoint=checkpoint,
            acting_as=acting_as,
            operator=getpass.getuser(),
            encoding=encoding,
            restart=restart,
        )
        raise typer.Exit(_audited(audit, ["import", str(file)], lambda: _run_import(request, open_database)))

    @app.command("export")
    def export_prefix(
        prefix: str = typer.Option(..., help="enterprise prefix whose identifiers are written"),
        fmt: str | None = typer.Option(None, "--format", help="jsonl | csv (default: from --output, else jsonl)"),
        output: Path | None = typer.Option(None, help="file to write (default: standard output)"),
        template: str | None = typer.Option(None, help="template version (default: the one the records use)"),
        template_prefix: str | None = typer.Option(None, help="prefix of the template"),
    ) -> None:
        """Write a prefix's identifiers as rows that ``secnode import`` reads back."""
        from registry.bulk.exporter import ExportRequest

        fmt = fmt or ("csv" if output is not None and output.suffix.lower() == ".csv" else "jsonl")
        request = ExportRequest(prefix=prefix, format=fmt, template=template, template_prefix=template_prefix)
        raise typer.Exit(_audited(audit, ["export"], lambda: _run_export(request, output)))

    @app.command("export-events")
    def export_events(
        prefix: str = typer.Option(..., help="enterprise prefix whose identifiers' events are written"),
        output: Path = typer.Option(..., help="file to write: one EPCIS 2.0 document (JSON)"),
    ) -> None:
        """Write every event touching a prefix's identifiers, in time order, as an EPCIS 2.0 document."""
        raise typer.Exit(_audited(audit, ["export-events"], lambda: _run_export_events(prefix, output)))


def _audited(audit: Audit, words: list[str], run: Callable[[], int]) -> int:
    """Run a command, then audit it with its exit code (1 when it crashed)."""
    exit_code = FAILED
    try:
        exit_code = run()
    finally:
        audit(words, exit_code)
    return exit_code


def _run_import(request: ImportRequest, open_database: OpenDatabase) -> int:
    from foundation.errors import DomainError
    from registry.bulk.importer import Importer

    settings = get_settings()
    state: dict[str, Any] = {}
    # As the server does (node.app): a batch allocates many small objects that live until its commit, so the
    # collector runs less often and never over the start-up objects.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)

    async def run() -> ImportProgress:
        from foundation.http.budgets import Budgets
        from foundation.redis_client import make_redis

        # the prefix's daily registration quota, counted with the node's: through Redis, else for this run alone
        redis = make_redis(settings)
        try:
            async with open_database(settings) as db:
                importer = Importer(
                    db,
                    settings,
                    request,
                    on_progress=lambda p: _after_batch(state, p),
                    budgets=Budgets(redis, settings),
                )
                state["importer"] = importer
                start = await importer.prepare()
                if start.resumed_from_row:
                    console.print(
                        f"resuming {request.path.name} after row {start.resumed_from_row:,} "
                        f"(checkpoint {start.checkpoint_path.name})"
                    )
                with _import_progress() as bar:
                    state["bar"], state["started"] = bar, time.monotonic()
                    state["task"] = bar.add_task(
                        "import", total=start.size or 1, completed=start.position, rows=start.counts.rows, rate=0.0
                    )
                    return await importer.run()
        finally:
            if redis is not None:
                await redis.aclose()

    try:
        done = asyncio.run(run())
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/yellow]: {_committed(state)}; rerun the same command to resume")
        return INTERRUPTED
    except DomainError as exc:
        console.print(f"[red]error[/red] {exc.name}: {escape(exc.message)}")
        if _committed(state) != NOTHING:
            console.print(f"{_committed(state)}; rerun the same command to resume")
        return FAILED
    except OSError as exc:
        console.print(f"[red]error[/red] {escape(str(exc))}")
        return FAILED
    counts, seconds = done.counts, time.monotonic() - state["started"]
    console.print(
        f"imported {request.path.name} into {request.prefix} as {done.actor}\n"
        f"  {counts.rows:,} rows: {counts.created:,} created, {counts.present:,} already present, "
        f"{counts.failed:,} failed" + (f" (see {done.errors_path})" if counts.failed else "") + "\n"
        f"  this run: {done.rows_this_run:,} rows in {seconds:.1f} s "
        f"({done.rows_this_run / max(seconds, 1e-9):,.0f} rows/s)"
    )
    return PARTLY if counts.failed else DONE


def _import_progress() -> Progress:
    return Progress(
        TextColumn("[bold]import"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TextColumn("{task.fields[rate]:,.0f} rows/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _after_batch(state: dict[str, Any], progress: ImportProgress) -> None:
    # The batch's objects are garbage now: collect them here, so memory stays that of one batch.
    gc.collect()
    if "task" not in state:
        return
    elapsed = max(time.monotonic() - state["started"], 1e-9)
    state["bar"].update(
        state["task"], completed=progress.position, rows=progress.counts.rows, rate=progress.rows_this_run / elapsed
    )


def _run_export_events(prefix: str, output: Path) -> int:
    from foundation.db import Database
    from foundation.errors import DomainError
    from registry.bulk.events_export import export_events

    settings = get_settings()
    partial = output.with_name(output.name + ".partial")

    async def run() -> int:
        db = Database.from_settings(settings, with_replica=False)
        try:
            with partial.open("wb") as out:
                return await export_events(db, prefix, out, lambda n: console.print(f"{n:,} events", end="\r"))
        finally:
            await db.dispose()

    try:
        count = asyncio.run(run())
    except KeyboardInterrupt:
        _discard(partial)
        console.print(f"[yellow]interrupted[/yellow]: {output} was not written")
        return INTERRUPTED
    except DomainError as exc:
        _discard(partial)
        console.print(f"[red]error[/red] {exc.name}: {escape(exc.message)}")
        return FAILED
    os.replace(partial, output)  # only a complete export takes the file's name
    console.print(f"exported {count:,} events touching {prefix} to {output}")
    return DONE


def _committed(state: dict[str, Any]) -> str:
    importer = state.get("importer")
    if importer is None or importer.checkpoint is None or not importer.checkpoint.row:
        return NOTHING
    return f"rows up to {importer.checkpoint.row:,} are committed"


def _run_export(request: ExportRequest, output: Path | None) -> int:
    from foundation.db import Database
    from foundation.errors import DomainError
    from registry.bulk.exporter import Exporter

    settings = get_settings()
    partial = output.with_name(output.name + ".partial") if output is not None else None

    async def run() -> ExportResult:
        db = Database.from_settings(settings, with_replica=False)
        try:
            exporter = Exporter(db, settings, request)
            prepared = await exporter.prepare()
            with Progress(
                TextColumn("[bold]export"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.completed:,.0f} records"),
                TimeRemainingColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("export", total=prepared.total or 1)

                def show(result: ExportResult) -> None:
                    bar.update(task, completed=result.written + result.skipped)

                if partial is None:
                    return await exporter.write(sys.stdout.buffer, show)
                with partial.open("wb") as out:
                    return await exporter.write(out, show)
        finally:
            await db.dispose()

    try:
        result = asyncio.run(run())
    except KeyboardInterrupt:
        _discard(partial)
        console.print("[yellow]interrupted[/yellow]" + (f": {output} was not written" if output else ""))
        return INTERRUPTED
    except DomainError as exc:
        _discard(partial)
        console.print(f"[red]error[/red] {exc.name}: {escape(exc.message)}")
        return FAILED
    if partial is not None and output is not None:
        os.replace(partial, output)  # only a complete export takes the file's name
    where = output or "standard output"
    console.print(
        f"exported {result.written:,} identifiers of {request.prefix} (template {result.template}) to "
        f"{where} as {request.format}"
    )
    if result.skipped:
        console.print(
            f"[yellow]{result.skipped:,} records were not written[/yellow]: they cannot be rows of this "
            "template, e.g.\n  " + "\n  ".join(escape(e) for e in result.examples)
        )
        return PARTLY
    return DONE


def _discard(partial: Path | None) -> None:
    if partial is not None:
        partial.unlink(missing_ok=True)
