"""Every request that may change something (any method but GET, HEAD and OPTIONS) is written to the audit log
before its answer leaves: an answered write is always audited, and so is every refusal (a wrong password, a
forbidden write, a quota)."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.faces import client_address
from registry.audit import chain

log = logging.getLogger("secnode.audit")

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def actor_of(scope: Scope) -> str:
    """Set by the authentication of either face (registry.accounts.endpoints) in the request's state."""
    state = scope.get("state") or {}
    if "actor" in state:
        return state["actor"].name
    if "claimed" in state:
        return f"claimed:{state['claimed']}"
    return "anonymous"


class AuditMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app
        self._lock = asyncio.Lock()  # this process's appends, one at a time (SQLite has no advisory lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return

        async def audited_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._append(scope, message["status"])
            await send(message)

        await self.app(scope, receive, audited_send)

    async def _append(self, scope: Scope, status: int) -> None:
        state = scope["app"].state
        entry = {"actor": actor_of(scope), "action": f"{scope['method']} {scope['path']}",
                 "source": client_address(scope, state.settings), "result": status}
        try:
            async with self._lock, state.db.unit_of_work() as session:
                await chain.append(session, **entry, algorithm=state.settings.audit_hash)
        except Exception as exc:
            # The request has been handled either way; its answer is not held back, and the log keeps the entry.
            log.error("secnode.audit.append_failed error=%s entry=%s", type(exc).__name__, entry)
