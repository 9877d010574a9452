"""The change journal as a producer of webhook messages: the identifier changes (``handle.created``, ``.updated``,
``.deleted``) under the subscription's prefixes, in journal order, many to a message.

A change is delivered thin: the identifier, the kind, the new version, the journal number, when, and where to read
it. Never its values: values carry their own read permissions (restricted values, read grants) and the record may
have changed again since; the receiver reads the record with its own credentials and gets what it may read."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from registry.journal import repository as journal
from registry.journal.models import JournalEntry
from registry.kernel.clock import as_utc, utcnow
from registry.kernel.syntax import canonical
from registry.webhooks import delivery
from registry.webhooks import repository as subscriptions
from registry.webhooks.models import WebhookSubscription

MESSAGE_TYPE = "handle.changes"
SCAN_WINDOW = 1000  # journal rows looked at per pass (most belong to others)


class ChangeFeed:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.batch = settings.webhook_batch_changes

    async def prepare(self, session: AsyncSession, subscription: WebhookSubscription) -> bool:
        """Make the subscription's next message from the journal after its cursor (True), or move the cursor past
        rows that are none of its business (False)."""
        rows = await journal.after(session, subscription.cursor, limit=SCAN_WINDOW)
        if not rows:
            return False
        kinds = set(subscription.filter.get("kinds", ()))
        wanted = set(subscription.filter.get("prefixes", ()))
        # what the enterprise holds now: a prefix that left it stops being delivered at once
        held = await subscriptions.owned_prefix_keys(session, subscription.enterprise_id, wanted)
        changes: list[dict[str, Any]] = []
        through = subscription.cursor
        for row in rows:
            through = row.seq
            prefix = row.payload.get("prefix") if isinstance(row.payload, dict) else None
            if row.kind in kinds and isinstance(prefix, str) and canonical(prefix) in held:
                changes.append(self._change(row, prefix))
                if len(changes) == self.batch:
                    break
        if not changes:
            delivery.skip_to(subscription, through, utcnow(), 0 if len(rows) == SCAN_WINDOW else self.idle)
            return False
        message_id = f"msg_{subscription.id}_{changes[0]['seq']}_{changes[-1]['seq']}"
        body = {
            "type": MESSAGE_TYPE,
            "timestamp": utcnow().isoformat(),
            "data": {"subscriptionId": subscription.id, "changes": changes},
        }
        delivery.set_pending(subscription, message_id, orjson.dumps(body).decode(), through, len(changes))
        return True

    @property
    def idle(self) -> float:
        return self.settings.webhook_poll_seconds

    def _change(self, row: JournalEntry, prefix: str) -> dict[str, Any]:
        created = as_utc(row.created_at)
        return {
            "seq": row.seq,
            "type": row.kind,
            "handle": row.subject,
            "prefix": prefix,
            "version": row.version,
            "occurredAt": created.isoformat() if created is not None else None,
            "url": f"{self.settings.public_url.rstrip('/')}/api/handles/{quote(row.subject, safe='/')}",
        }
