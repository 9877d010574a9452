"""Every HTTP request gets an id: the client's ``X-Request-ID`` when it is a sensible token, else a new one. It is
returned in the ``X-Request-ID`` header of the answer and stamped on every log line written while the request is
served (``foundation.logs``), so an answer and its log lines are found together. With ``access_log`` each request
also gets one line of its own (logger ``secnode.access``)."""

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


def new_request_id() -> str:
    return f"{_WORKER}-{next(_numbers):x}"


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if _SENSIBLE.fullmatch(value) else None
    return None


class RequestIds:
    def __init__(self, app: ASGIApp, *, access_log: bool = False):
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or new_request_id()
        header = (HEADER, request_id.encode("ascii"))
        token = REQUEST_ID.set(request_id)
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # a new message: the hot path sends the same ready-made start message for many requests
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
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
            REQUEST_ID.reset(token)
