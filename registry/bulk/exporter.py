"""Exporting a prefix's identifiers as rows that ``secnode import`` reads back: a ``suffix`` column and one column
per template item (named by its type), as CSV or JSON Lines.

A row carries what the business API registers: string values of the template's items with the default TTL and
permissions. A record holding anything else (values outside the template, its own TTL, another template) is not
written as a row; it is counted and named, never silently left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.db import Database
from registry.bulk import repository
from registry.bulk.errors import FormatUnknown, PrefixUnknown, TemplateAmbiguous
from registry.bulk.source import FORMATS
from registry.handles.items import TemplateLocator
from registry.kernel.syntax import Identifier, canonical
from registry.kernel.values import DEFAULT_PERMISSIONS, TEMPLATE_INDEX, Value
from registry.prefixes import repository as prefixes
from registry.templates import service as templates
from registry.templates.validation import template_key

_FLUSH_EVERY = 1000
_EXAMPLES = 5


@dataclass(frozen=True)
class ExportRequest:
    prefix: str
    format: str = "jsonl"
    template: str | None = None  # default: the one template the prefix's records are bound to
    template_prefix: str | None = None


@dataclass
class ExportResult:
    template: str = ""  # prefix@version
    columns: list[str] = field(default_factory=list)
    total: int = 0  # live identifiers of the prefix
    written: int = 0
    skipped: int = 0
    examples: list[str] = field(default_factory=list)  # some skipped records, with the reason


class Exporter:
    def __init__(self, db: Database, settings: Settings, request: ExportRequest):
        if request.format not in FORMATS:
            raise FormatUnknown(f"format must be csv or jsonl, not {request.format!r}")
        self.db = db
        self.settings = settings
        self.request = request
        self.result = ExportResult()
        self._items: dict[int, dict[str, Any]] = {}
        self._key = ""

    async def prepare(self) -> ExportResult:
        """Choose the template and the columns; count what there is to export."""
        request, prefix_key = self.request, canonical(self.request.prefix)
        async with self.db.read_session() as session:
            if await prefixes.get(session, prefix_key) is None:
                raise PrefixUnknown(request.prefix)
            if request.template is not None:
                probe = Identifier(f"{request.prefix}/x", canonical(f"{request.prefix}/x"), request.prefix, "x")
                located = await TemplateLocator(session, self.settings).locate(
                    probe, request.template, request.template_prefix
                )
                template_prefix, version = located, request.template
            else:
                template_prefix, version = await _only_template(session, prefix_key, request.prefix)
            items = (await templates.get(session, template_prefix, version))["items"]
            self.result.total = await prefixes.live_identifier_count(session, prefix_key)
        self._key = template_key(template_prefix, version)
        self._items = {i["idIndex"]: i for i in items}
        self.result.template = f"{template_prefix}@{version}"
        self.result.columns = ["suffix"] + [i["idType"] for i in items]
        return self.result

    async def write(self, out: BinaryIO, on_progress: Callable[[ExportResult], None] | None = None) -> ExportResult:
        if not self._key:
            await self.prepare()
        result = self.result
        lines = _Lines(self.request.format, result.columns)
        async for handle, values, tkey in repository.live_records(self.db, canonical(self.request.prefix)):
            suffix = handle.partition("/")[2]
            if canonical(suffix) == "admin":
                continue  # the prefix administrator's identity, made by the node, not an enterprise record
            row, reason = self._row(suffix, values, tkey)
            if row is None:
                result.skipped += 1
                if len(result.examples) < _EXAMPLES:
                    result.examples.append(f"{handle}: {reason}")
            else:
                lines.add(row)
                result.written += 1
            if (result.written + result.skipped) % _FLUSH_EVERY == 0:
                out.write(lines.take())
                if on_progress:
                    on_progress(result)
        out.write(lines.take())
        if on_progress:
            on_progress(result)
        return result

    def _row(self, suffix: str, values: list[Value], tkey: str | None) -> tuple[dict[str, str] | None, str]:
        if tkey != self._key:
            return None, f"bound to template {tkey or 'none'}, not {self.result.template}"
        row = {"suffix": suffix}
        for value in values:
            index = value["index"]
            if index == TEMPLATE_INDEX:
                continue
            item = self._items.get(index)
            data = value["data"]
            if item is None or value["type"] != item["idType"]:
                return None, f"value at index {index} ({value['type']}) is not an item of the template"
            if data["format"] != "string" or not isinstance(data["value"], str) or not data["value"]:
                return None, f"value {value['type']} is not a non-empty string"
            if (
                value.get("ttl") != self.settings.default_ttl
                or value.get("references")
                or value.get("permissions", DEFAULT_PERMISSIONS) != DEFAULT_PERMISSIONS
            ):
                return None, f"value {value['type']} has its own TTL, permissions or references"
            row[item["idType"]] = data["value"]
        return row, ""


class _Lines:
    """Rows encoded in the output format, handed out in chunks."""

    def __init__(self, fmt: str, columns: list[str]):
        self.format = fmt
        self.columns = columns
        self._buffer = io.StringIO() if fmt == "csv" else None
        self._chunks: list[bytes] = []
        if self._buffer is not None:
            self._csv = csv.DictWriter(self._buffer, fieldnames=columns)
            self._csv.writeheader()

    def add(self, row: dict[str, str]) -> None:
        if self._buffer is not None:
            self._csv.writerow(row)
        else:
            self._chunks.append(orjson.dumps(row) + b"\n")

    def take(self) -> bytes:
        if self._buffer is not None:
            data = self._buffer.getvalue().encode("utf-8")
            self._buffer.seek(0)
            self._buffer.truncate()
            return data
        data, self._chunks = b"".join(self._chunks), []
        return data


async def _only_template(session: AsyncSession, prefix_key: str, prefix: str) -> tuple[str, str]:
    keys = await repository.template_keys(session, prefix_key)
    if len(keys) != 1:
        found = ", ".join(keys) or "none"
        raise TemplateAmbiguous(prefix, len(keys), found)
    template_prefix, _, version = keys[0].rpartition("@")
    return template_prefix, version
