"""The event hash of CBV 2.0 (section 8.9) for events captured without an eventID.

Following CBV 2.0's structure: a pre-hash string of the event's fields in canonical order, each ``name=value``,
lists sorted, time normalised to UTC with milliseconds, then SHA-256, written
``ni:///sha-256;<hex>?ver=CBV2.0``. The things events speak of here are Handle identifiers, so GS1's EPC
canonicalisation does not apply; identifiers are compared in their canonical (ASCII lower-case) form.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

_ORDER = (
    "eventType",
    "eventTime",
    "eventTimeZoneOffset",
    "epcList",
    "parentID",
    "childEPCs",
    "inputEPCList",
    "outputEPCList",
    "transformationID",
    "action",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "ilmd",
)
_IGNORED = {"eventID", "recordTime", "@context", "type", "errorDeclaration", "certificationInfo"}


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "".join(sorted(_value(v) for v in value))
    if isinstance(value, dict):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return str(value)


def event_hash(event: dict[str, Any], event_time: datetime, canonical_ids: dict[str, Any]) -> str:
    parts = [
        f"eventType={event['type']}",
        f"eventTime={_time(event_time)}",
        f"eventTimeZoneOffset={event['eventTimeZoneOffset']}",
    ]
    for name in _ORDER[3:]:
        value = canonical_ids.get(name, event.get(name))
        if value not in (None, [], {}):
            parts.append(f"{name}={_value(value)}")
    extensions = sorted(k for k in event if k not in _ORDER and k not in _IGNORED)
    parts += [f"{k}={_value(event[k])}" for k in extensions]
    digest = hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"
