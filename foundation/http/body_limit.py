"""Request body size limit, answered in the face's own error format."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.errors import BodyTooLarge
from foundation.http.face import ErrorRenderer


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, render: ErrorRenderer):
        self.app = app
        self.max_bytes = max_bytes
        self.render = render  # the assembly's: the error in the face the path belongs to

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(self.max_bytes)
        await self.render(error, scope)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)


class _BodyTooLarge(BodyTooLarge):
    """Raised while reading a streamed body; endpoints render it like any domain error."""
