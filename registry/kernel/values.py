"""Handle values: parse what a client sent, keep the stored form, compare records.

Stored form of one value (also the Handle.Net v9 REST form):
``{"index", "type", "data": {"format", "value"}, "ttl", "timestamp", "permissions"?, "references"?}``;
``permissions`` and ``references`` are stored only when not default. ``HS_SECKEY`` data is stored as a scrypt hash.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from foundation.crypto.keys import hash_secret, is_secret_hash, verify_secret
from foundation.crypto.pubkeys import check_public_key
from foundation.errors import KeyInvalid
from foundation.text import is_decimal
from registry.kernel.errors import (
    AdminValueInvalid,
    IndexDuplicate,
    IndexInvalid,
    PermissionsInvalid,
    ReferencesInvalid,
    TtlInvalid,
    ValueDataInvalid,
    ValueFormatUnknown,
    ValueNotObject,
    ValuesBodyInvalid,
    ValueTypeInvalid,
    VlistInvalid,
)

MAX_INDEX = 2**32 - 1
MAX_TYPE_BYTES = 64
DEFAULT_PERMISSIONS = "1110"  # admin read, admin write, public read, no public write
TEMPLATE_INDEX = 1001
TEMPLATE_ITEMS_FROM = 2000
ADMIN_INDEX = 100
VLIST_INDEX = 200
SECKEY_INDEX = 300

FORMATS = frozenset({"string", "base64", "hex", "admin", "key", "vlist", "site"})
_PERMISSIONS_4 = re.compile(r"[01]{4}")
_PERMISSIONS_12 = re.compile(r"[01]{12}")
_HEX = re.compile(r"[0-9A-Fa-f]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Value = dict[str, Any]


def _index(raw: Any, where: str) -> int:
    if isinstance(raw, bool):
        raise IndexInvalid(f"{where}: index must be an integer")
    if isinstance(raw, str) and is_decimal(raw):
        raw = int(raw)
    if not isinstance(raw, int):
        raise IndexInvalid(f"{where}: index must be an integer")
    if raw < 1 or raw > MAX_INDEX:
        raise IndexInvalid(f"{where}: index must be between 1 and {MAX_INDEX}")
    return raw


def _admin_ref(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("handle"), str) or not raw["handle"]:
        raise AdminValueInvalid(f"{where}: admin value needs 'handle' and 'index'")
    if _CONTROL.search(raw["handle"]):
        raise AdminValueInvalid(f"{where}: admin handle contains control characters")
    ref = {"handle": raw["handle"], "index": _index(raw.get("index"), where)}
    if "permissions" in raw:
        perms = raw["permissions"]
        if not isinstance(perms, str) or not _PERMISSIONS_12.fullmatch(perms):
            raise AdminValueInvalid(f"{where}: admin permissions must be 12 characters of 0/1")
        ref["permissions"] = perms
    return ref


def _data(value_type: str, raw: Any, where: str) -> dict[str, Any]:
    if isinstance(raw, str):  # Handle.Net accepts "data":"text" as a string value
        raw = {"format": "string", "value": raw}
    if not isinstance(raw, dict) or "value" not in raw:
        raise ValueDataInvalid(f"{where}: data must be a string or {{format, value}}")
    fmt = raw.get("format", "string")
    value = raw["value"]
    if fmt not in FORMATS:
        raise ValueFormatUnknown(where, fmt)
    if value_type == "HS_ADMIN" and fmt != "admin":
        raise AdminValueInvalid(f"{where}: HS_ADMIN data must have format 'admin'")
    if value_type == "HS_VLIST" and fmt != "vlist":
        raise VlistInvalid(f"{where}: HS_VLIST data must have format 'vlist'")
    if fmt == "key" and isinstance(value, dict):  # a JWK object
        pass
    elif fmt in ("string", "key"):
        if not isinstance(value, str):
            raise ValueDataInvalid(f"{where}: {fmt} data must be a string")
        if "\x00" in value:
            raise ValueDataInvalid(f"{where}: data contains NUL")
    elif fmt == "base64":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ValueDataInvalid(f"{where}: data is not valid base64") from None
    elif fmt == "hex":
        if not isinstance(value, str) or len(value) % 2 or not _HEX.fullmatch(value):
            raise ValueDataInvalid(f"{where}: data is not valid hex")
    elif fmt == "admin":
        value = _admin_ref(value, where)
        value.setdefault("permissions", "011111110011")
    elif fmt == "vlist":
        if not isinstance(value, list):
            raise VlistInvalid(f"{where}: vlist data must be a list of {{handle, index}}")
        value = [{"handle": _admin_ref(m, where)["handle"], "index": _index(m.get("index"), where)} for m in value]
    elif fmt == "site":
        if not isinstance(value, (dict, str)):
            raise ValueDataInvalid(f"{where}: site data must be an object")
    if value_type == "HS_PUBKEY":
        if fmt != "key":
            raise KeyInvalid(f"{where}: HS_PUBKEY data must have format 'key'")
        check_public_key(value, where)
    if value_type == "HS_SECKEY":
        if fmt != "string":
            raise ValueDataInvalid(f"{where}: HS_SECKEY data must be a string")
        if not value:
            raise ValueDataInvalid(f"{where}: HS_SECKEY must not be empty")
    return {"format": fmt, "value": value}


_PLAIN_KEYS = frozenset({"index", "type", "data", "ttl", "auth"})
_SPECIAL_TYPES = frozenset({"HS_ADMIN", "HS_VLIST", "HS_SECKEY", "HS_PUBKEY"})


def _plain_string_value(raw: Any, max_ttl: int, default_ttl: int) -> Value | None:
    """The common case of a batch (a string value with default permissions), checked without the general path;
    None sends the value to the general path, which accepts and refuses exactly the same values."""
    if type(raw) is not dict or not _PLAIN_KEYS.issuperset(raw):
        return None
    index, value_type, data = raw.get("index"), raw.get("type"), raw.get("data")
    ttl = raw.get("ttl", default_ttl)
    if (
        type(index) is not int
        or not 0 < index <= MAX_INDEX
        or type(ttl) is not int
        or not 0 <= ttl <= max_ttl
        or type(value_type) is not str
        or not value_type
        or len(value_type) > MAX_TYPE_BYTES
        or not value_type.isascii()
        or not value_type.isprintable()
        or value_type in _SPECIAL_TYPES
    ):
        return None
    if type(data) is dict:
        if len(data) != 2 or data.get("format") != "string":
            return None
        data = data.get("value")
    if type(data) is not str or "\x00" in data:
        return None
    return {"index": index, "type": value_type, "data": {"format": "string", "value": data}, "ttl": ttl}


def parse_value(raw: Any, *, max_ttl: int, default_ttl: int, position: int = 0) -> Value:
    """Validate one client value and return it in stored form (without timestamp; secrets not yet hashed)."""
    plain = _plain_string_value(raw, max_ttl, default_ttl)
    if plain is not None:
        return plain
    where = f"value {position + 1}"
    if not isinstance(raw, dict):
        raise ValueNotObject(where)
    index = _index(raw.get("index"), where)
    where = f"value at index {index}"
    value_type = raw.get("type")
    if not isinstance(value_type, str) or not value_type:
        raise ValueTypeInvalid(f"{where}: type must be a non-empty string")
    if len(value_type.encode("utf-8")) > MAX_TYPE_BYTES or _CONTROL.search(value_type):
        raise ValueTypeInvalid(f"{where}: type must be at most {MAX_TYPE_BYTES} bytes, printable")
    if "data" not in raw:
        raise ValueDataInvalid(f"{where}: data is missing")
    value: Value = {"index": index, "type": value_type, "data": _data(value_type, raw["data"], where)}
    ttl = raw.get("ttl", default_ttl)
    if isinstance(ttl, str) and is_decimal(ttl):
        ttl = int(ttl)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0 or ttl > max_ttl:
        raise TtlInvalid(where, max_ttl)
    value["ttl"] = ttl
    perms = raw.get("permissions", DEFAULT_PERMISSIONS)
    if perms != DEFAULT_PERMISSIONS:
        if not isinstance(perms, str) or not _PERMISSIONS_4.fullmatch(perms):
            raise PermissionsInvalid(where)
        value["permissions"] = perms
    refs = raw.get("references") or []
    if not isinstance(refs, list):
        raise ReferencesInvalid(where)
    if refs:
        value["references"] = [
            {"handle": _admin_ref(r, where)["handle"], "index": _index(r.get("index"), where)} for r in refs
        ]
    return value


def parse_values(raw: Any, *, max_ttl: int, default_ttl: int) -> list[Value]:
    """Parse ``{"values": [...]}``, a bare list, or a single value object; indexes must be unique."""
    if isinstance(raw, dict) and "values" in raw:
        raw = raw["values"]
    elif isinstance(raw, dict) and "index" in raw:
        raw = [raw]
    if not isinstance(raw, list):
        raise ValuesBodyInvalid()
    values = [parse_value(item, max_ttl=max_ttl, default_ttl=default_ttl, position=i) for i, item in enumerate(raw)]
    seen: set[int] = set()
    for value in values:
        if value["index"] in seen:
            raise IndexDuplicate(value["index"])
        seen.add(value["index"])
    values.sort(key=lambda v: v["index"])
    return values


def hash_secrets(
    values: list[Value], previous: list[Value] | None = None, seal: Callable[[str], str] | None = None
) -> None:
    """Replace plaintext HS_SECKEY data by a hash (in place); keep the old hash when the secret is unchanged. With
    ``seal``, the secret is also kept sealed for the node itself (``sealed``, see foundation.crypto.secret_seal)."""
    secrets = [v for v in values if v["type"] == "HS_SECKEY"]
    if not secrets:
        return
    old = {v["index"]: v for v in previous or () if v["type"] == "HS_SECKEY"}
    for value in secrets:
        plain = value["data"]["value"]
        kept = old.get(value["index"])
        if kept is not None and plain == kept["data"]["value"]:  # carried over unchanged (a PUT with index=)
            continue
        if is_secret_hash(plain):
            raise ValueDataInvalid(f"value at index {value['index']}: HS_SECKEY must be the secret itself")
        if kept is not None and verify_secret(plain, kept["data"]["value"]):
            value["data"] = dict(kept["data"])
            if seal is not None and "sealed" not in value["data"]:  # the same secret again: now sealed too
                value["data"]["sealed"] = seal(plain)
        else:
            value["data"] = {"format": "string", "value": hash_secret(plain)}
            if seal is not None:
                value["data"]["sealed"] = seal(plain)


def stamp(values: list[Value], previous: list[Value] | None, now_iso: str) -> None:
    """Set timestamps: unchanged values keep theirs, new or changed values get ``now_iso`` (in place)."""
    if not previous:
        for value in values:
            value["timestamp"] = now_iso
        return
    old = {v["index"]: v for v in previous}
    for value in values:
        before = old.get(value["index"])
        if before is not None and same_value(before, value):
            value["timestamp"] = before.get("timestamp", now_iso)
        else:
            value["timestamp"] = now_iso


def _comparable(value: Value) -> tuple[Any, ...]:
    # dict equality, not text: JSONB hands keys back in its own order
    return (
        value["index"],
        value["type"],
        value["data"],
        value.get("ttl"),
        value.get("permissions", DEFAULT_PERMISSIONS),
        value.get("references", []),
    )


def same_value(a: Value, b: Value) -> bool:
    return _comparable(a) == _comparable(b)


def same_values(stored: list[Value], incoming: list[Value], *, unsealed_differs: bool = False) -> bool:
    """True when ``incoming`` (plaintext secrets) describes exactly ``stored`` (hashed secrets); timestamps ignored.
    ``unsealed_differs``: a secret stored without its seal is a change to write (the node can seal it now)."""
    if len(stored) != len(incoming):
        return False
    by_index = {v["index"]: v for v in stored}
    for value in incoming:
        old = by_index.get(value["index"])
        if old is None:
            return False
        if value["type"] == "HS_SECKEY" and old["type"] == "HS_SECKEY":
            if value["data"] != old["data"] and not verify_secret(value["data"]["value"], old["data"]["value"]):
                return False
            if unsealed_differs and "sealed" not in old["data"]:
                return False
            continue
        if not same_value(old, value):
            return False
    return True


def render(value: Value) -> Value:
    """A stored value in Handle.Net's field order (JSONB does not keep key order)."""
    out = {
        "index": value["index"],
        "type": value["type"],
        "data": value["data"],
        "ttl": value.get("ttl"),
        "timestamp": value.get("timestamp"),
    }
    if "permissions" in value:
        out["permissions"] = value["permissions"]
    if "references" in value:
        out["references"] = value["references"]
    return out


def public_view(values: list[Value]) -> list[Value]:
    """Values anyone may read: never HS_SECKEY, only values with public read permission."""
    return [v for v in values if v["type"] != "HS_SECKEY" and v.get("permissions", DEFAULT_PERMISSIONS)[2] == "1"]


def admin_view(values: list[Value]) -> list[Value]:
    """Values an authorised administrator may read: everything but HS_SECKEY."""
    return [v for v in values if v["type"] != "HS_SECKEY"]
