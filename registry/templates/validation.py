"""Checking a record's values against its template: required items, types, limits; unknown items named."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn

import orjson

from foundation.errors import InvalidHandle
from registry.kernel import syntax
from registry.kernel.values import TEMPLATE_INDEX, TEMPLATE_ITEMS_FROM, Value
from registry.templates import vin
from registry.templates.errors import (
    DisabledItem,
    ItemTypeMismatch,
    ItemValueInvalid,
    RequiredItemMissing,
    TemplateBindingInvalid,
    UnknownItem,
)


def binding_value(prefix: str, version: str, ttl: int) -> Value:
    """The index-1001 value that binds a record to a template."""
    text = orjson.dumps({"prefix": prefix, "version": version}).decode()
    return {"index": TEMPLATE_INDEX, "type": "TEMPLATE", "data": {"format": "string", "value": text}, "ttl": ttl}


def read_binding(values: list[Value]) -> tuple[str, str] | None:
    """(template prefix, version) from a record's index-1001 value, or None when it has none."""
    value = next((v for v in values if v["index"] == TEMPLATE_INDEX), None)
    if value is None:
        return None
    if value["type"] != "TEMPLATE":
        raise TemplateBindingInvalid(f"index {TEMPLATE_INDEX} is reserved for the TEMPLATE binding")
    try:
        ref = orjson.loads(value["data"]["value"])
        prefix, version = ref["prefix"], ref["version"]
        assert isinstance(prefix, str) and isinstance(version, str)
    except (orjson.JSONDecodeError, KeyError, TypeError, AssertionError):
        raise TemplateBindingInvalid('TEMPLATE value must be {"prefix": ..., "version": ...}') from None
    return prefix, version


def template_key(prefix: str, version: str) -> str:
    return f"{syntax.canonical(prefix)}@{version}"


@dataclass(frozen=True)
class Item:
    index: int
    id_type: str
    name: str
    required: bool
    enabled: bool
    rule: dict[str, Any]
    pattern: re.Pattern[str] | None

    @functools.cached_property
    def where(self) -> str:
        """How errors name the item (made once: validation runs for every value of every record)."""
        return f"item '{self.id_type}' ({self.name})"


@dataclass(frozen=True)
class CompiledTemplate:
    prefix: str
    version: str
    items: dict[int, Item]

    @property
    def key(self) -> str:
        return template_key(self.prefix, self.version)

    @classmethod
    def build(cls, prefix: str, version: str, items: list[Any]) -> CompiledTemplate:
        compiled = {}
        for i in items:
            pattern = i.item_metadata.get("pattern")
            compiled[i.item_index] = Item(
                i.item_index,
                i.id_type,
                i.name,
                i.required,
                i.state == 1,
                i.item_metadata,
                re.compile(pattern) if pattern else None,
            )
        return cls(prefix, version, compiled)

    def validate(self, values: list[Value], *, identifier_mode: syntax.Mode = "strict") -> None:
        present = set()
        for value in values:
            if value["index"] < TEMPLATE_ITEMS_FROM:
                continue
            item = self.items.get(value["index"])
            if item is None or not item.enabled or value["type"] != item.id_type:
                self._refuse_item(item, value)
            self._check(item, value, identifier_mode)
            present.add(item.index)
        for item in self.items.values():
            if item.required and item.enabled and item.index not in present:
                raise RequiredItemMissing(item.id_type, item.name, item.index)

    def _refuse_item(self, item: Item | None, value: Value) -> NoReturn:
        label = f"item at index {value['index']} ({value['type']})"
        if item is None:
            raise UnknownItem(label, self.prefix, self.version, item=value["type"])
        if not item.enabled:
            raise DisabledItem(label, self.prefix, self.version, item=value["type"])
        raise ItemTypeMismatch(label, item.index, item.id_type, item=value["type"])

    def references(self, values: list[Value]) -> list[str]:
        """Canonical identifiers named by the record's reference items: what went into it (ADR 0003)."""
        out: list[str] = []
        for value in values:
            item = self.items.get(value["index"])
            if item is not None and item.rule["type"] == "reference" and isinstance(value["data"]["value"], str):
                refs = value["data"]["value"].split(",") if item.rule.get("multiple") else [value["data"]["value"]]
                out += [syntax.canonical(ref.strip()) for ref in refs if ref.strip()]
        return list(dict.fromkeys(out))

    def _check(self, item: Item, value: Value, identifier_mode: syntax.Mode) -> None:
        data = value["data"]
        if data["format"] != "string" or not isinstance(data["value"], str):
            raise ItemValueInvalid(f"{item.where} must be a string value", item=item.id_type)
        text = data["value"]
        rule = item.rule
        kind = rule["type"]
        if kind == "string":
            if len(text) < rule.get("minLength", 0) or len(text) > rule.get("maxLength", 1024):
                raise ItemValueInvalid(
                    f"{item.where} must be {rule.get('minLength', 0)} to {rule.get('maxLength', 1024)} characters long",
                    item=item.id_type,
                )
            if item.pattern is not None and not item.pattern.fullmatch(text):
                raise ItemValueInvalid(f"{item.where} does not match {item.pattern.pattern}", item=item.id_type)
            if rule.get("enum") and text not in rule["enum"]:
                raise ItemValueInvalid(f"{item.where} must be one of {', '.join(rule['enum'])}", item=item.id_type)
            if rule.get("check") == "vin" and not vin.is_valid(text):
                raise ItemValueInvalid(
                    f"{item.where}: {text!r} is not a VIN with a valid check digit", item=item.id_type
                )
        elif kind == "number":
            try:
                number = float(text)
            except ValueError:
                raise ItemValueInvalid(f"{item.where} must be a number", item=item.id_type) from None
            if number != number or number in (float("inf"), float("-inf")):
                raise ItemValueInvalid(f"{item.where} must be a finite number", item=item.id_type)
            if rule.get("integer") and not number.is_integer():
                raise ItemValueInvalid(f"{item.where} must be an integer", item=item.id_type)
            low, high = rule.get("minimum"), rule.get("maximum")
            if (low is not None and number < low) or (high is not None and number > high):
                raise ItemValueInvalid(f"{item.where} must be between {low} and {high}", item=item.id_type)
        elif kind in ("date", "datetime"):
            try:
                date.fromisoformat(text) if kind == "date" else datetime.fromisoformat(text)
            except ValueError:
                raise ItemValueInvalid(f"{item.where} must be an ISO 8601 {kind}", item=item.id_type) from None
        elif kind == "reference":
            refs = text.split(",") if rule.get("multiple") else [text]
            for ref in refs:
                try:
                    syntax.parse(ref.strip(), mode=identifier_mode)
                except InvalidHandle as exc:
                    raise ItemValueInvalid(
                        f"{item.where}: {ref.strip()!r} is not an identifier ({exc})", item=item.id_type
                    ) from None
