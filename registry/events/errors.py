"""Errors of traceability events: capture, parsing, grants and federated links."""

from __future__ import annotations

from collections.abc import Sequence

from foundation.errors import AlreadyExists, Forbidden, InvalidRequest, NotFound, TooLarge


class BadCaptureBehaviour(InvalidRequest):
    name = "capture.behaviour"

    def __init__(self) -> None:
        super().__init__("GS1-Capture-Error-Behaviour must be rollback or proceed")


class BadGrantee(InvalidRequest):
    name = "event.bad_grantee"

    def __init__(self) -> None:
        super().__init__("the grantee is an enterprise id or an 18-character unified social credit code")


class BadLinks(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "federation.bad_links"


class CaptureDocumentInvalid(InvalidRequest):
    name = "capture.document_invalid"

    def __init__(self) -> None:
        super().__init__("expected an EPCISDocument with epcisBody.eventList (or a list of events)")


class EventActionInvalid(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "event.action_invalid"


class EventCycle(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "event.cycle"


class EventDuplicate(AlreadyExists):
    name = "event.duplicate"

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} was already captured")
        self.event_id = event_id


class EventForbidden(Forbidden):
    """Raised with the message of the check that failed."""

    name = "event.forbidden"


class EventIdInvalid(InvalidRequest):
    name = "event.id_invalid"

    def __init__(self) -> None:
        super().__init__("eventID must be a URI of at most 500 characters")


class EventIdentifierDeleted(InvalidRequest):
    name = "event.identifier_deleted"

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} was deleted; events cannot speak of it")
        self.key = key


class EventIdentifierInvalid(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "event.identifier_invalid"


class EventIdentifierUnknown(InvalidRequest):
    name = "event.identifier_unknown"

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is not registered on this node; register it first")
        self.key = key


class EventIdentifiersMissing(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "event.identifiers_missing"


class EventIlmdInvalid(InvalidRequest):
    name = "event.ilmd_invalid"

    def __init__(self) -> None:
        super().__init__("ilmd must be an object")


class EventNotFound(NotFound):
    name = "event.not_found"

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} does not exist")
        self.event_id = event_id


class EventNotObject(InvalidRequest):
    name = "event.not_object"

    def __init__(self) -> None:
        super().__init__("an event must be a JSON object")


class EventTimeInvalid(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "event.time_invalid"


class EventTooManyIdentifiers(InvalidRequest):
    name = "event.too_many_identifiers"

    def __init__(self, field: str, most: int) -> None:
        super().__init__(f"{field} lists more than {most} identifiers")
        self.field = field
        self.most = most


class EventTypeUnsupported(InvalidRequest):
    name = "event.type_unsupported"

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__(f"type must be one of {', '.join(allowed)}")
        self.allowed = tuple(allowed)


class GrantForbidden(Forbidden):
    name = "event.grant_forbidden"

    def __init__(self) -> None:
        super().__init__("grants are given by an enterprise")


class NotInVocabulary(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "event.vocabulary"


class NotOurs(InvalidRequest):
    name = "federation.not_ours"

    def __init__(self, handle: str) -> None:
        super().__init__(f"{handle} is not an identifier of this node")
        self.handle = handle


class NotTheirs(Forbidden):
    """Raised with the message of the check that failed."""

    name = "federation.not_theirs"


class TooManyEvents(TooLarge):
    name = "capture.too_many_events"

    def __init__(self, limit: int, count: int) -> None:
        super().__init__(f"a capture holds at most {limit} events; this one has {count}")
        self.limit = limit
        self.count = count
