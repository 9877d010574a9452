"""Capturing events: validation, identifiers, authorisation, cycles; all-or-nothing or per event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.errors import DomainError, InvalidRequest
from registry.enterprises import repository as enterprises
from registry.enterprises.credit_code import is_valid as credit_code_valid
from registry.enterprises.errors import BadCreditCode, EnterpriseNotFound
from registry.events import repository
from registry.events.cycles import CycleGuard
from registry.events.errors import (
    BadLinks,
    EventDuplicate,
    EventForbidden,
    EventIdentifierDeleted,
    EventIdentifierUnknown,
    GrantForbidden,
    NotOurs,
    NotTheirs,
)
from registry.events.parsing import ParsedEvent, parse_event
from registry.journal import repository as journal
from registry.kernel import records as handles
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.kernel.syntax import canonical, is_under
from registry.prefixes import repository as prefixes


@dataclass
class CaptureResult:
    index: int
    event_id: str | None = None
    error: DomainError | None = None


class CaptureRejected(InvalidRequest):
    """All-or-nothing capture with at least one bad event: nothing was stored."""

    name = "capture.rejected"

    def __init__(self, results: list[CaptureResult]):
        failed = [r for r in results if r.error is not None]
        super().__init__(f"{len(failed)} of {len(results)} events were refused; nothing was stored")
        self.results = results


class _Context:
    """What a capture call looks up once: the records and owners of the identifiers its events speak of."""

    def __init__(self, session: AsyncSession, settings: Settings, actor: Actor):
        self.session, self.settings, self.actor = session, settings, actor
        self.node_key = canonical(settings.node_prefix)
        self.live: set[str] = set()
        self.deleted: set[str] = set()
        self.owner_of_prefix: dict[str, int] = {}
        self.granting: set[int] = set()

    async def load(self, events: list[ParsedEvent]) -> None:
        keys = {key for event in events for key in event.identifiers}
        local = [k for k in keys if self._is_local(k)]
        records = await handles.get_many(self.session, local)
        self.live = {k for k, r in records.items() if not r.deleted}
        self.deleted = {k for k, r in records.items() if r.deleted}
        prefix_keys = {k.partition("/")[0] for k in local}
        found = await prefixes.with_enterprise_state(self.session, prefix_keys)
        self.owner_of_prefix = {key: prefix.enterprise_id for key, (prefix, _) in found.items()}
        if self.actor.enterprise_id is not None:
            self.granting = await repository.owners_granting(self.session, self.actor.enterprise_id)

    def _is_local(self, key: str) -> bool:
        return is_under(key.partition("/")[0], self.node_key)

    def check(self, event: ParsedEvent) -> None:
        owners: set[int] = set()
        for key in sorted(event.identifiers):
            if not self._is_local(key):
                continue  # an identifier of another node: its owner answers for it there
            if key in self.deleted:
                raise EventIdentifierDeleted(key)
            if key not in self.live:
                raise EventIdentifierUnknown(key)
            owner = self.owner_of_prefix.get(key.partition("/")[0])
            if owner is not None:
                owners.add(owner)
        if self.actor.is_node_admin:
            return
        allowed = {self.actor.enterprise_id, *self.granting} - {None}
        if not owners & allowed:
            raise EventForbidden(
                "the capturing enterprise neither owns an identifier of this event nor has a grant from an owner"
            )


async def capture(
    session: AsyncSession, settings: Settings, actor: Actor, raw_events: list[Any], *, proceed: bool
) -> list[CaptureResult]:
    """Store events in order. ``proceed``: keep the valid ones and report the others (GS1-Capture-Error-
    Behaviour: proceed); otherwise any refusal raises :class:`CaptureRejected` and nothing is stored."""
    if not actor.authenticated:
        raise EventForbidden("capturing events requires a login")
    results = [CaptureResult(index=i) for i in range(len(raw_events))]
    parsed: dict[int, ParsedEvent] = {}
    for result, raw in zip(results, raw_events, strict=True):
        try:
            parsed[result.index] = parse_event(raw, settings)
            result.event_id = parsed[result.index].event_id
        except DomainError as exc:
            result.error = exc
    context = _Context(session, settings, actor)
    await context.load(list(parsed.values()))
    stored_before = await repository.existing_ids(session, (e.event_id for e in parsed.values()))
    cycles = CycleGuard(session)
    await cycles.prefetch(list(parsed.values()))
    record_time = utcnow()
    stamp = record_time.isoformat().replace("+00:00", "Z")
    accepted: dict[str, ParsedEvent] = {}
    for index, event in parsed.items():
        result = results[index]
        try:
            if event.event_id in stored_before or event.event_id in accepted:
                raise EventDuplicate(event.event_id)
            context.check(event)
            if not proceed and any(r.error for r in results):
                continue  # the capture will be rejected: stop writing, keep checking for the report
            await cycles.check(event)
        except DomainError as exc:
            result.error = exc
            continue
        cycles.add(event)
        event.body["recordTime"] = stamp
        accepted[event.event_id] = event
    if not proceed and any(r.error for r in results):
        raise CaptureRejected(results)
    await repository.insert_events(
        session,
        list(accepted.values()),
        record_time=record_time,
        enterprise_id=actor.enterprise_id,
        captured_by=actor.name,
    )
    await journal.append(
        session,
        [
            journal.entry(
                "event.captured",
                e.event_id,
                e.event_id,
                actor.name,
                type=e.event_type,
                identifiers=sorted(e.identifiers),
            )
            for e in accepted.values()
        ],
    )
    return results


async def grant(session: AsyncSession, actor: Actor, grantee: int | str, *, revoke: bool = False) -> None:
    """Grant (or withdraw) reading and capturing events of our identifiers: ``grantee`` is an enterprise id of this
    node or the unified social credit code of an enterprise on any node."""
    if actor.enterprise_id is None:
        raise GrantForbidden()
    actor.require_admin("granting partners")
    if isinstance(grantee, str):
        if not credit_code_valid(grantee):
            raise BadCreditCode(grantee)
    elif await enterprises.get(session, grantee) is None:
        raise EnterpriseNotFound(f"enterprise {grantee} does not exist")
    if revoke:
        await repository.remove_grant(session, actor.enterprise_id, grantee)
    else:
        await repository.add_grant(session, actor.enterprise_id, grantee, utcnow())


LINK_KINDS = {"transformation", "aggregation", "association", "reference"}


def remote_links(settings: Settings, sender: str, links: Any, now: datetime) -> list[dict[str, Any]]:
    """Validate back-links reported by node ``sender``: each speaks of an identifier of ours and links it to one of
    the sender's, through one of the sender's events. Returns the rows to store, or refuses the whole report."""
    if not isinstance(links, list) or len(links) > 10_000:
        raise BadLinks("links is a list of at most 10,000 links")
    sender_key = canonical(sender)
    rows = []
    for link in links:
        if (
            not isinstance(link, dict)
            or link.get("direction") not in ("up", "down")
            or link.get("kind") not in LINK_KINDS
            or not all(
                isinstance(link.get(f), str) and 0 < len(link[f]) <= 300 for f in ("handle", "neighbour", "event")
            )
        ):
            raise BadLinks("each link has handle, direction (up or down), neighbour, event and kind")
        handle, neighbour = _our(settings, link["handle"]), canonical(link["neighbour"])
        if not is_under(neighbour.partition("/")[0], sender_key):
            raise NotTheirs(f"node {sender} reports a link of {link['neighbour']}, which is not its own")
        rows.append(
            {
                "handle_key": handle,
                "direction": link["direction"],
                "neighbor_key": neighbour,
                "event_id": link["event"],
                "kind": link["kind"],
                "source_node": sender,
                "received_at": now,
            }
        )
    return rows


def _our(settings: Settings, handle: Any) -> str:
    if not isinstance(handle, str) or not 0 < len(handle) <= 300:
        raise BadLinks("identifiers are strings of 1 to 300 characters")
    key = canonical(handle)
    if not is_under(key.partition("/")[0], canonical(settings.node_prefix)):
        raise NotOurs(handle)
    return key


def remote_references(
    settings: Settings, sender: str, references: Any, now: datetime
) -> tuple[list[str], list[dict[str, Any]]]:
    """Validate reference back-links reported by node ``sender``: ``[{"source", "targets"}]``, each a record of
    the sender and every identifier of ours its reference items now name (an empty list withdraws them all).
    Returns the sources and the rows to store, or refuses the whole report."""
    if (
        not isinstance(references, list)
        or len(references) > 10_000
        or not all(
            isinstance(r, dict)
            and isinstance(r.get("source"), str)
            and 0 < len(r["source"]) <= 300
            and isinstance(r.get("targets"), list)
            and len(r["targets"]) <= 10_000
            for r in references
        )
    ):
        raise BadLinks("references is a list of at most 10,000 {source, targets}, at most 10,000 targets each")
    sender_key = canonical(sender)
    sources, rows = [], []
    for reference in references:
        source = canonical(reference["source"])
        if not is_under(source.partition("/")[0], sender_key):
            raise NotTheirs(f"node {sender} reports references of {reference['source']}, which is not its own")
        sources.append(source)
        rows += [
            {
                "handle_key": target,
                "direction": "down",
                "neighbor_key": source,
                "event_id": "",
                "kind": "reference",
                "source_node": sender,
                "received_at": now,
            }
            for target in dict.fromkeys(_our(settings, t) for t in reference["targets"])
        ]
    return sources, rows
