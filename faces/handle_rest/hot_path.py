"""A raw ASGI route in front of the application for anonymous ``GET /api/handles/{handle}``: the hot path skips
the framework's routing and validation (about 2x cheaper per request, PERFORMANCE.md). Everything else, and any
request with credentials, ``auth=true`` or ``signed=true``, goes on to the application."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import FastAPI
from prometheus_client import Counter
from starlette.types import Receive, Scope, Send

from faces.handle_rest.answers import public_answer
from faces.handle_rest.render import error_answer
from foundation.errors import DomainError
from foundation.metrics import REQUESTS
from foundation.text import is_true
from resolver.records import Query

ROUTE = "/api/handles/"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class ResolverFastPath:
    def __init__(self, app: FastAPI):
        self.app = app  # the FastAPI application; its state holds the resolver once started

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
        handle = scope["path"][len(ROUTE) :]
        raw_query = scope["query_string"].decode("latin-1")
        query = None
        if raw_query:
            params = parse_qsl(raw_query, keep_blank_values=True)
            if any(k in ("auth", "signed") and is_true(v) for k, v in params):
                await self.app(scope, receive, send)
                return
            types = [v for k, v in params if k == "type"]
            indexes = [v for k, v in params if k == "index"]
            try:
                query = Query.from_params(types, indexes, False) if types or indexes else None
            except DomainError as exc:  # the raw route renders through the Handle face's renderer, as bytes
                status, body = error_answer(exc, handle)
                await _respond(send, status, body, scope["method"])
                return
        status, body, headers = await public_answer(self.app.state.resolver, handle, query, raw_query)
        await _respond(send, status, body, scope["method"], headers)


_counted: dict[tuple[str, int], Counter] = {}


def _count(method: str, status: int) -> None:
    counter = _counted.get((method, status))
    if counter is None:
        counter = _counted[(method, status)] = REQUESTS.labels("handle", method, str(status))
    counter.inc()


async def _respond(send: Send, status: int, body: bytes, method: str, extra: dict[str, str] | None = None) -> None:
    _count(method, status)
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body if method == "GET" else b""})
