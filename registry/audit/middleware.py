"""Every request that may change something (any method but GET, HEAD and OPTIONS) is written to the audit log
before its answer leaves: an answered write is always audited, and so is every refusal (a wrong password, a
forbidden write, a quota). A request whose entry cannot be written is answered 503 in its face's envelope
(``audit.unavailable``), not with its own answer, and its entry goes to the log instead."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.db import Database
from foundation.http.face import ErrorRenderer
from foundation.http.requests import client_address
from foundation.metrics import AUDIT_APPENDS
from registry.audit import chain
from registry.audit.errors import AuditUnavailable

AUDIT_APPENDED = AUDIT_APPENDS.labels("appended")
AUDIT_FAILED = AUDIT_APPENDS.labels("failed")
log = logging.getLogger("secnode.audit")

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def actor_of(scope: Scope) -> str:
    """Set by the authentication of either face (faces.actors) in the request's state."""
    state = scope.get("state") or {}
    if "actor" in state:
        name: str = state["actor"].name
        return name
    if "claimed" in state:
        return f"claimed:{state['claimed']}"
    return "anonymous"


class GroupAppender:
    """Appends one process's entries in groups: whoever arrives while a group is being written waits for the next
    group, written in one transaction under one turn of the chain's lock. Each caller returns once its own entry
    is committed, so an answer still leaves only after its entry is written; but the lock (and the commit) is
    taken once per group, not once per request, which is what bounded audited writes per node (ADR 0007)."""

    def __init__(self, db: Database, algorithm: str):
        self.db, self.algorithm = db, algorithm
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(self, entry: dict[str, Any]) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups())
        await done

    async def _write_groups(self) -> None:
        group: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    async with self.db.unit_of_work() as session:
                        await chain.append_many(session, [entry for entry, _ in group], self.algorithm)
                except Exception as exc:  # noqa: BLE001 - each waiting request decides what the failure means
                    _settle(group, exc)
                else:
                    _settle(group, None)
        finally:
            # a writer cancelled mid-group (the node stopping) leaves no request waiting for ever
            stranded, self._waiting = group + self._waiting, []
            _settle(stranded, AuditUnavailable())


def _settle(group: list[tuple[dict[str, Any], asyncio.Future[None]]], error: Exception | None) -> None:
    for _, done in group:
        if done.done():  # settled already, or cancelled by a request that went away while it waited
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


class AuditMiddleware:
    def __init__(self, app: ASGIApp, render: ErrorRenderer):
        self.app = app
        self.render = render  # the assembly's: the refusal in the face the request belongs to
        self._appender: GroupAppender | None = None  # made on first use: the database is the app's, set at startup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return
        refused = False

        async def audited_send(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                try:
                    await self._append(scope, message["status"])
                except AuditUnavailable as exc:
                    refused = True  # the answer is the refusal; what the application still sends is dropped
                    await self.render(exc, scope)(scope, receive, send)
                    return
            if not refused:
                await send(message)

        await self.app(scope, receive, audited_send)

    async def _append(self, scope: Scope, status: int) -> None:
        state = scope["app"].state
        if self._appender is None or self._appender.db is not state.db:
            self._appender = GroupAppender(state.db, state.settings.audit_hash)
        entry = {
            "actor": actor_of(scope),
            "action": f"{scope['method']} {scope['path']}",
            "source": client_address(scope, state.settings),
            "result": status,
        }
        try:
            await self._appender.append(entry)
        except Exception as exc:
            # The log keeps the entry; the request is refused, so no answer leaves without its entry written.
            log.error("secnode.audit.append_failed error=%s entry=%s", type(exc).__name__, entry)
            AUDIT_FAILED.inc()
            raise AuditUnavailable() from exc
        AUDIT_APPENDED.inc()
