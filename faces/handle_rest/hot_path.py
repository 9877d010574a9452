"""A raw ASGI route in front of the application for anonymous ``GET /api/handles/{handle}``: the hot path skips
the framework's routing and validation (about 2x cheaper per request, PERFORMANCE.md). Everything else, and any
request with credentials, ``auth=true`` or ``signed=true``, goes on to the application.

An answer without filters is kept as ready bytes (body and headers) under the handle as the client spelled it,
with the in-process tier's entry it was built from. It is sent again only while the tier still answers that very
entry for the key (an invalidation or a newer version replaces it, a lapsed lease answers nothing): the same test
as any in-process hit, without parsing, rendering or assembling anything (ADR 0010)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from faces.handle_rest.answers import resolved_answer
from faces.handle_rest.render import error_answer
from foundation.errors import DomainError
from foundation.http.request_ids import HEADER, log_access, take_request_id
from foundation.metrics import latency_tally, request_tally
from foundation.text import is_true
from registry.kernel.syntax import canonical
from resolver.cache.entry import Entry
from resolver.records import Query

ROUTE = "/api/handles/"
_JSON_HEADERS = [(b"content-type", b"application/json")]
READY_ANSWERS = 100_000  # ready answers kept per worker (the oldest goes first); a few hundred bytes each


class _Ready:
    """The answer's head (up to the values) and headers; the values are the entry's own bytes."""

    __slots__ = ("entry", "key", "prefix_key", "headers", "head")

    def __init__(self, entry: Entry, key: str, prefix_key: str, head: bytes):
        self.entry, self.key, self.prefix_key, self.head = entry, key, prefix_key, head
        length = len(head) + len(entry.body) + 1
        self.headers = [*_JSON_HEADERS, (b"content-length", str(length).encode())]


class ResolverFastPath:
    def __init__(self, app: FastAPI, ready_answers: int = READY_ANSWERS):
        self.app = app  # the FastAPI application; its state holds the resolver once started
        self._ready: dict[str, _Ready] = {}
        self._ready_capacity = ready_answers
        self.access_log = getattr(getattr(app.state, "settings", None), "access_log", False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith(ROUTE)
            or len(scope["path"]) == len(ROUTE)
        ):
            await self.app(scope, receive, send)
            return
        for name, _ in scope["headers"]:
            if name == b"authorization":
                await self.app(scope, receive, send)  # an authorised reader may see more: the authoritative route
                return
        started = time.perf_counter()
        request_id = take_request_id(scope)
        handle = scope["path"][len(ROUTE) :]
        if not scope["query_string"]:
            ready = self._ready.get(handle)
            if ready is not None and self.app.state.resolver.still_current(ready.key, ready.prefix_key, ready.entry):
                start = {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*ready.headers, (HEADER, request_id)],
                }
                await send(start)
                body = ready.head + ready.entry.body + b"}" if scope["method"] == "GET" else b""
                await send({"type": "http.response.body", "body": body})
                self._count(scope, 200, started)
                return
        raw_query = scope["query_string"].decode("latin-1")
        query = None
        if raw_query:
            params = parse_qsl(raw_query, keep_blank_values=True)
            if any(k in ("auth", "signed") and (is_true(v) or v.lower() == "handle") for k, v in params):
                await self.app(scope, receive, send)
                return
            types = [v for k, v in params if k == "type"]
            indexes = [v for k, v in params if k == "index"]
            try:
                query = Query.from_params(types, indexes, False) if types or indexes else None
            except DomainError as exc:  # the raw route renders through the Handle face's renderer, as bytes
                status, body = error_answer(exc, handle)
                await self._respond(scope, send, status, body, started, request_id)
                return
        (status, body, extra), ident, entry = await resolved_answer(self.app.state.resolver, handle, query, raw_query)
        if query is None and entry is not None and ident is not None and status == 200 and not extra:
            self._keep(handle, _Ready(entry, ident.key, canonical(ident.prefix), body[: -len(entry.body) - 1]))
        await self._respond(scope, send, status, body, started, request_id, extra)

    def _keep(self, handle: str, ready: _Ready) -> None:
        if not self.app.state.resolver.cache.serve_locally:
            return  # nothing is answered from the in-process tier: a ready answer would never be current
        if handle not in self._ready and len(self._ready) >= self._ready_capacity:
            del self._ready[next(iter(self._ready))]  # the oldest kept
        self._ready[handle] = ready

    async def _respond(
        self,
        scope: Scope,
        send: Send,
        status: int,
        body: bytes,
        started: float,
        request_id: bytes,
        extra: dict[str, str] | None = None,
    ) -> None:
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), (HEADER, request_id)]
        headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
        self._count(scope, status, started)

    def _count(self, scope: Scope, status: int, started: float) -> None:
        """What the application's middleware does for the other routes: the request counted, its latency observed,
        its access line written."""
        request_tally("handle", scope["method"], status).inc()
        _RESOLVE_LATENCY.observe(time.perf_counter() - started)
        if self.access_log:
            log_access(scope, status, started)


_RESOLVE_LATENCY = latency_tally("handle", "resolve")
