"""The delivery state of a subscription as the delivery loop moves it: the message in flight, the lease of the
worker sending it, acknowledgements and failures (ADR 0013). No remote call happens here: the loop claims in one
transaction, sends outside any, and records the outcome in another."""

from __future__ import annotations

from datetime import datetime, timedelta

from registry.webhooks.models import SubscriptionState, WebhookSubscription

MAX_ERROR_LENGTH = 500


def set_pending(subscription: WebhookSubscription, message_id: str, body: str, through: int, items: int) -> None:
    """The next message: kept until acknowledged, so every retry sends the same id and the same bytes."""
    subscription.pending_id, subscription.pending_body = message_id, body
    subscription.pending_through, subscription.pending_count = through, items


def skip_to(subscription: WebhookSubscription, position: int, now: datetime, idle_seconds: float) -> None:
    """Nothing of the subscription's up to ``position``: move past it, and look again after ``idle_seconds``
    (the subscription goes to the back of the queue, so idle ones do not starve busy ones)."""
    subscription.cursor = max(subscription.cursor, position)
    subscription.next_attempt_at = now + timedelta(seconds=idle_seconds)


def lease(subscription: WebhookSubscription, owner: str, until: datetime) -> None:
    """Only ``owner`` sends the pending message until ``until``; a worker that dies leaves it to the next one then."""
    subscription.lease_owner, subscription.lease_until = owner, until


def holds(subscription: WebhookSubscription, owner: str, message_id: str) -> bool:
    """The outcome of ``owner``'s attempt still applies: nobody redelivered, deleted or took over meanwhile."""
    return subscription.lease_owner == owner and subscription.pending_id == message_id


def acknowledged(subscription: WebhookSubscription, now: datetime) -> None:
    """The receiver took the pending message: the cursor moves past it and the next one is due at once."""
    assert subscription.pending_through is not None
    subscription.cursor = max(subscription.cursor, subscription.pending_through)
    subscription.delivered_messages += 1
    subscription.delivered_items += subscription.pending_count
    subscription.pending_id = subscription.pending_body = subscription.pending_through = None
    subscription.pending_count = 0
    subscription.failures = 0
    subscription.last_success_at = now
    subscription.next_attempt_at = now
    subscription.lease_owner = subscription.lease_until = None


def failed(
    subscription: WebhookSubscription, now: datetime, error: str, retry_at: datetime, disable_after: int
) -> bool:
    """The attempt failed: retry at ``retry_at``, or disable the subscription once ``disable_after`` attempts in a
    row have failed (the enterprise sees it and re-enables it). Returns whether it was disabled now."""
    subscription.failures += 1
    subscription.last_failure_at = now
    subscription.last_error = error[:MAX_ERROR_LENGTH]
    subscription.next_attempt_at = retry_at
    subscription.lease_owner = subscription.lease_until = None
    if subscription.failures >= disable_after and subscription.state == SubscriptionState.ACTIVE.value:
        subscription.state = SubscriptionState.DISABLED.value
        subscription.disabled_at = now
        return True
    return False
