"""Validating one EPCIS 2.0 event (JSON) into what the node stores; each problem is named."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from foundation.config import Settings
from foundation.errors import DomainError
from registry.events import vocabulary
from registry.events.errors import (
    EventActionInvalid,
    EventCycle,
    EventIdentifierInvalid,
    EventIdentifiersMissing,
    EventIdInvalid,
    EventIlmdInvalid,
    EventNotObject,
    EventTimeInvalid,
    EventTooManyIdentifiers,
    EventTypeUnsupported,
)
from registry.events.hashing import event_hash
from registry.kernel import syntax

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent")
ACTIONS = ("ADD", "OBSERVE", "DELETE")
_OFFSET = re.compile(r"[+-](?:0\d|1[0-4]):[0-5]\d")
MAX_IDENTIFIERS = 10_000


@dataclass
class ParsedEvent:
    body: dict[str, Any]  # the event as stored and returned (eventID, recordTime added at capture)
    event_id: str
    event_type: str
    action: str | None
    event_time: datetime
    offset: str
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    items: list[tuple[str, str]] = field(default_factory=list)  # (canonical identifier, role)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (upstream key, downstream key, kind)

    @property
    def identifiers(self) -> set[str]:
        return {key for key, _ in self.items}


def _identifier(settings: Settings, value: Any, where: str) -> syntax.Identifier:
    if not isinstance(value, str):
        raise EventIdentifierInvalid(f"{where} must be an identifier string")
    try:
        return syntax.parse(
            value,
            mode=settings.identifier_mode,
            max_length=settings.identifier_max_length,
            max_bytes_rfc=settings.identifier_max_bytes_rfc,
        )
    except DomainError as exc:
        raise EventIdentifierInvalid(f"{where}: {exc.message}") from None


def _identifiers(settings: Settings, event: dict[str, Any], name: str, *, required: bool) -> list[syntax.Identifier]:
    raw = event.get(name)
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise EventIdentifierInvalid(f"{name} must be a list of identifiers")
    if required and not raw:
        raise EventIdentifiersMissing(f"{name} must not be empty")
    if len(raw) > MAX_IDENTIFIERS:
        raise EventTooManyIdentifiers(name, MAX_IDENTIFIERS)
    return [_identifier(settings, v, f"{name}[{i}]") for i, v in enumerate(raw)]


def _location(settings: Settings, event: dict[str, Any], name: str) -> str | None:
    raw = event.get(name)
    if raw is None:
        return None
    value = raw.get("id") if isinstance(raw, dict) else raw
    return _identifier(settings, value, name).handle


def _time(event: dict[str, Any]) -> tuple[datetime, str]:
    raw = event.get("eventTime")
    if not isinstance(raw, str):
        raise EventTimeInvalid("eventTime is required (ISO 8601 with a time zone)")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise EventTimeInvalid(f"eventTime {raw!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise EventTimeInvalid("eventTime must carry a time zone (Z or ±hh:mm)")
    offset = event.get("eventTimeZoneOffset")
    if offset is None:
        utcoffset = moment.utcoffset()
        assert utcoffset is not None  # it has a time zone
        seconds = int(utcoffset.total_seconds())
        offset = f"{'+' if seconds >= 0 else '-'}{abs(seconds) // 3600:02d}:{abs(seconds) % 3600 // 60:02d}"
    if not isinstance(offset, str) or not _OFFSET.fullmatch(offset):
        raise EventTimeInvalid("eventTimeZoneOffset must be ±hh:mm")
    return moment, offset


def parse_event(raw: Any, settings: Settings) -> ParsedEvent:
    if not isinstance(raw, dict):
        raise EventNotObject()
    event_type = raw.get("type")
    if event_type not in EVENT_TYPES:
        raise EventTypeUnsupported(EVENT_TYPES)
    moment, offset = _time(raw)
    action = raw.get("action")
    if event_type == "TransformationEvent":
        if action is not None:
            raise EventActionInvalid("a TransformationEvent has no action")
    elif action not in ACTIONS:
        raise EventActionInvalid(f"action must be one of {', '.join(ACTIONS)}")
    ilmd = raw.get("ilmd")
    if ilmd is not None and not isinstance(ilmd, dict):
        raise EventIlmdInvalid()

    items: list[tuple[str, str]] = []
    edges: list[tuple[str, str, str]] = []
    ids: dict[str, Any] = {}
    if event_type == "ObjectEvent":
        epcs = _identifiers(settings, raw, "epcList", required=True)
        items += [(i.key, "epc") for i in epcs]
        ids["epcList"] = [i.key for i in epcs]
    elif event_type == "TransformationEvent":
        inputs = _identifiers(settings, raw, "inputEPCList", required=True)
        outputs = _identifiers(settings, raw, "outputEPCList", required=True)
        both = {i.key for i in inputs} & {o.key for o in outputs}
        if both:
            raise EventCycle(f"{sorted(both)[0]} cannot be both input and output")
        items += [(i.key, "input") for i in inputs] + [(o.key, "output") for o in outputs]
        edges += [(i.key, o.key, "transformation") for i in inputs for o in outputs]
        ids.update(inputEPCList=[i.key for i in inputs], outputEPCList=[o.key for o in outputs])
    else:
        children = _identifiers(settings, raw, "childEPCs", required=action != "DELETE")
        if "parentID" not in raw:
            raise EventIdentifiersMissing(f"{event_type} needs parentID")
        parent = _identifier(settings, raw["parentID"], "parentID")
        if parent.key in {c.key for c in children}:
            raise EventCycle(f"{parent.handle} cannot contain itself")
        items += [(parent.key, "parent")] + [(c.key, "child") for c in children]
        if action != "DELETE":
            kind = "aggregation" if event_type == "AggregationEvent" else "association"
            edges += [(c.key, parent.key, kind) for c in children]
        ids.update(parentID=parent.key, childEPCs=[c.key for c in children])
    items = list(dict.fromkeys(items))

    biz_step = vocabulary.normalise("bizStep", raw.get("bizStep"))
    disposition = vocabulary.normalise("disposition", raw.get("disposition"))
    read_point = _location(settings, raw, "readPoint")
    biz_location = _location(settings, raw, "bizLocation")
    body = {k: v for k, v in raw.items() if k not in ("recordTime",)}
    body["eventTimeZoneOffset"] = offset
    if biz_step is not None:
        body["bizStep"] = biz_step
    if disposition is not None:
        body["disposition"] = disposition
    event_id = raw.get("eventID")
    if event_id is None:
        event_id = event_hash(body, moment, ids)
    elif not isinstance(event_id, str) or not event_id or len(event_id) > 500 or not event_id.isprintable():
        raise EventIdInvalid()
    body["eventID"] = event_id
    return ParsedEvent(
        body=body,
        event_id=event_id,
        event_type=event_type,
        action=action,
        event_time=moment,
        offset=offset,
        biz_step=biz_step,
        disposition=disposition,
        read_point=read_point,
        biz_location=biz_location,
        items=items,
        edges=edges,
    )
