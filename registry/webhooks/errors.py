"""Errors of webhook subscriptions (change notifications)."""

from __future__ import annotations

from foundation.errors import Conflict, Forbidden, InvalidRequest, NotFound


class WebhookNotFound(NotFound):
    name = "webhook.not_found"

    def __init__(self, subscription_id: int) -> None:
        super().__init__(f"webhook subscription {subscription_id} not found")
        self.subscription_id = subscription_id


class WebhookForbidden(Forbidden):
    """Subscriptions are managed by the enterprise's administrators and read by its auditors."""

    name = "webhook.forbidden"


class WebhookUrlRefused(InvalidRequest):
    """Not an http(s) URL, or one that resolves inside the node's network (unless the node allows it)."""

    name = "webhook.url_refused"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"webhook URL refused: {reason}")
        self.url, self.reason = url, reason


class WebhookPrefixRefused(InvalidRequest):
    """A prefix the subscriber's enterprise does not hold (or no prefix at all)."""

    name = "webhook.prefix_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class WebhookKindUnknown(InvalidRequest):
    name = "webhook.kind_unknown"

    def __init__(self, kind: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown change kind {kind!r}; known: {', '.join(known)}")
        self.change_kind = kind


class WebhookLimitReached(Conflict):
    name = "webhook.limit_reached"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the enterprise already has {limit} webhook subscriptions")
        self.limit = limit


class WebhookRedeliveryRefused(InvalidRequest):
    """Redelivery starts at a change after the subscription began and no later than the journal's end."""

    name = "webhook.redelivery_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class WebhookSecretUnreadable(Conflict):
    """The subscription's secret was sealed with a signing key the node no longer has: rotate the secret."""

    name = "webhook.secret_unreadable"

    def __init__(self, subscription_id: int) -> None:
        super().__init__(f"the secret of webhook subscription {subscription_id} cannot be read: rotate it")
        self.subscription_id = subscription_id
