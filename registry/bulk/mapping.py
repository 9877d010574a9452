"""From a row of columns to a business item: which column is the identifier, which columns are template items.

A mapping file is a JSON object ``{"column": "target"}``. A target is a template item, by its type (``coilNo``) or
its display name (``卷号``), or ``suffix`` / ``handle`` for the column naming the identifier, ``alias`` for a column of
aliases written ``scheme:key`` (``alias:gs1`` when the cells hold the key alone, an element string, a Digital Link
URI or an EPC URN: each becomes an ``ALIAS`` value from index 1100 on, ADR 0016), or ``null`` for a column
to leave out. Without a mapping file every column must be named like that itself. A column nobody mapped is an
error, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from registry.bulk.errors import ColumnUnmapped, MappingInvalid, NoIdentifierColumn, RequiredUnmapped
from registry.kernel.syntax import canonical

IDENTIFIER_TARGETS = ("suffix", "handle")
ALIAS_TARGET = "alias"
FIRST_ALIAS_INDEX = 1100  # aliases of imported rows, in column order (template items are at 2000 and above)


def _is_alias_target(target: str) -> bool:
    return target == ALIAS_TARGET or target.startswith(ALIAS_TARGET + ":")


class RowProblem(Exception):
    """A row that cannot become an item: a stable name and the reason, for the error report."""

    def __init__(self, name: str, reason: str):
        super().__init__(reason)
        self.name = name
        self.reason = reason


def load_mapping(path: Path) -> dict[str, str | None]:
    try:
        raw = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise MappingInvalid(f"cannot read the mapping file {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise MappingInvalid(f"the mapping file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) or v is None for v in raw.values()):
        raise MappingInvalid('the mapping file must be a JSON object {"column": "template item" or null}')
    return {column.strip(): target for column, target in raw.items()}


class RowMapper:
    """Turns rows into business items for one prefix and one template (``items`` as the template API lists
    them)."""

    def __init__(
        self,
        prefix: str,
        template_version: str,
        template_prefix: str,
        items: list[dict[str, Any]],
        mapping: dict[str, str | None] | None,
    ):
        self.prefix = prefix
        self.template_version = template_version
        self.template_prefix = template_prefix
        self._items = items
        types = {i["idType"]: i for i in items}
        names = [i["name"] for i in items]
        # A display name is a target too, unless two items share it or it is another item's type.
        self._by_target = {i["name"]: i for i in items if names.count(i["name"]) == 1} | types
        self.mapping = mapping
        # column -> (kind, item); None = left out
        self._resolved: dict[str, tuple[str, dict[str, Any] | None] | None] = {}
        if mapping is not None:
            for column, target in mapping.items():
                self._resolved[column] = self._target(column, target)
            self._check_targets(mapping)

    def _target(self, column: str, target: str | None) -> tuple[str, dict[str, Any] | None] | None:
        if target is None:
            return None
        if target in IDENTIFIER_TARGETS:
            return target, None
        if _is_alias_target(target):
            return ALIAS_TARGET, {"scheme": target.partition(":")[2]}
        item = self._by_target.get(target)
        if item is None:
            raise MappingInvalid(
                f"column {column!r} maps to {target!r}, which is not an item of template "
                f"{self.template_version} (items: {', '.join(i['idType'] for i in self._items)})"
            )
        return "item", item

    def _check_targets(self, columns: Iterable[str]) -> None:
        resolved = [r for c in columns if (r := self._resolved.get(c)) is not None]
        identifiers = [kind for kind, _ in resolved if kind in IDENTIFIER_TARGETS]
        if len(identifiers) != 1:
            raise NoIdentifierColumn(len(identifiers))
        types = [item["idType"] for kind, item in resolved if item is not None and kind == "item"]
        twice = sorted({t for t in types if types.count(t) > 1})
        if twice:
            raise MappingInvalid(f"two columns map to the item {twice[0]}")
        missing = [i for i in self._items if i["required"] and i["state"] == 1 and i["idType"] not in types]
        if missing:
            raise RequiredUnmapped(missing[0]["idType"], missing[0]["name"])

    def bind_header(self, columns: list[str]) -> None:
        """Check a CSV header against the mapping (or, without one, against the template) before any row."""
        if self.mapping is not None:
            absent = [c for c in self.mapping if c not in columns]
            if absent:
                raise MappingInvalid(
                    f"the mapping names column {absent[0]!r}, which the file does not have "
                    f"(columns: {', '.join(columns)})"
                )
            unmapped = [c for c in columns if c not in self.mapping]
            if unmapped:
                raise ColumnUnmapped(
                    f"column {unmapped[0]!r} is not in the mapping: map it to a template item, "
                    "or to null to leave it out"
                )
            return
        unknown = [
            c for c in columns if c not in IDENTIFIER_TARGETS and c not in self._by_target and not _is_alias_target(c)
        ]
        if unknown:
            raise ColumnUnmapped(
                f"column(s) {', '.join(repr(c) for c in unknown)} name no item of template "
                f"{self.template_version}: pass --mapping to say what they are (null leaves a "
                "column out)"
            )
        for column in columns:
            self._resolved[column] = self._target(column, column)
        self._check_targets(columns)

    def _column(self, column: str) -> tuple[str, dict[str, Any] | None] | None:
        if column not in self._resolved:  # JSON Lines: columns are met row by row
            known = column in IDENTIFIER_TARGETS or column in self._by_target or _is_alias_target(column)
            if self.mapping is not None or not known:
                raise RowProblem("bulk.column_unmapped", f"column {column!r} is not mapped to a template item")
            self._resolved[column] = self._target(column, column)
        return self._resolved[column]

    def item(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The business item of one row; raises :class:`RowProblem` naming what is wrong with it."""
        identifier: tuple[str, str] | None = None
        values: list[dict[str, Any]] = []
        for column, cell in fields.items():
            target = self._column(column)
            if target is None:
                continue
            text = _cell_text(column, cell)
            if text is None:
                continue
            kind, item = target
            if kind == ALIAS_TARGET:
                assert item is not None
                aliases = sum(1 for v in values if v["type"] == "ALIAS")
                text = f"{item['scheme']}:{text}" if item["scheme"] else text
                values.append(
                    {"index": FIRST_ALIAS_INDEX + aliases, "type": "ALIAS", "data": {"format": "string", "value": text}}
                )
            elif item is None:
                if identifier is not None:
                    raise RowProblem("bulk.identifier_twice", "the row names its identifier twice")
                identifier = (kind, text)
            else:
                values.append(
                    {"index": item["idIndex"], "type": item["idType"], "data": {"format": "string", "value": text}}
                )
        return {
            "handle": self._handle(identifier),
            "templateVersion": self.template_version,
            "templatePrefix": self.template_prefix,
            "value": values,
        }

    def identifier_of(self, fields: dict[str, Any]) -> str:
        """The row's identifier as far as it can be told, for the error report."""
        for column, cell in fields.items():
            target = self._resolved.get(column)
            if target is not None and target[1] is None and isinstance(cell, (str, int)) and cell != "":
                return f"{self.prefix}/{cell}" if target[0] == "suffix" else str(cell)
        return ""

    def _handle(self, identifier: tuple[str, str] | None) -> str:
        if identifier is None:
            raise RowProblem("bulk.identifier_empty", "the identifier is empty")
        kind, text = identifier
        if kind == "suffix":
            return f"{self.prefix}/{text}"
        prefix, slash, _ = text.partition("/")
        if not slash or canonical(prefix) != canonical(self.prefix):
            raise RowProblem("bulk.other_prefix", f"{text} is not an identifier under {self.prefix}")
        return text


def _cell_text(column: str, cell: Any) -> str | None:
    """A cell as the string value a template item holds; None for an empty cell."""
    if cell is None or cell == "":
        return None
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool) or not isinstance(cell, (int, float)):
        raise RowProblem("bulk.value_not_text", f"column {column!r} holds {type(cell).__name__}, not text or a number")
    return str(cell)
