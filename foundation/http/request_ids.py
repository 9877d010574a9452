"""Every HTTP request gets an id: the client's ``X-Request-ID`` when it is a sensible token, else a new one. It is
returned in the ``X-Request-ID`` header of the answer and stamped on every log line written while the request is
served (``foundation.logs``), so an answer and its log lines are found together. With ``access_log`` each request
also gets one line of its own (logger ``secnode.access``).

The id lives in a context variable that is set and never reset: each request is served in a task of its own, so
it ends with the request, and the server's own line about a request that failed still carries it. The resolver's
hot path answers before the application's middleware and stamps its answers itself (``take_request_id``), one
layer fewer on the busiest route."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.logs import REQUEST_ID

HEADER = b"x-request-id"
_SENSIBLE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_WORKER = os.urandom(4).hex()  # distinct per worker process, so that counted ids never collide
_numbers = itertools.count(1)
access = logging.getLogger("secnode.access")


def take_request_id(scope: Scope) -> bytes:
    """The request's id (the client's when sensible, else a new one), made current for the log lines."""
    for name, value in scope["headers"]:
        if name == HEADER:
            if _SENSIBLE.fullmatch(value):
                REQUEST_ID.set(value.decode("ascii"))
                return value
            break
    request_id = f"{_WORKER}-{next(_numbers):x}"
    REQUEST_ID.set(request_id)
    return request_id.encode("ascii")


def with_request_id(send: Send, request_id: bytes) -> Send:
    """``send`` adding the request id to the answer's headers."""

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), (HEADER, request_id)]}
        await send(message)

    return send_with_id


def log_access(scope: Scope, status: int, started: float) -> None:
    access.info(
        "%s %s %d",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "client": (scope.get("client") or ("-",))[0],
        },
    )


class RequestIds:
    """The application's outermost middleware: its answers get the id, and the access log its line."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False):
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = take_request_id(scope)
        if not self.access_log:
            await self.app(scope, receive, with_request_id(send, request_id))
            return
        status, started = 0, time.perf_counter()

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, with_request_id(sent, request_id))
        finally:
            log_access(scope, status, started)
