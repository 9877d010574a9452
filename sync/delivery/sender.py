"""One attempt to deliver one message: a signed POST; any 2xx answer acknowledges it. Redirects are not followed
(a 3xx is a failure: the node would otherwise call an address nobody checked)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from foundation import __version__, outbound
from sync.delivery import signing

USER_AGENT = f"secnode-webhooks/{__version__}"


@dataclass(frozen=True)
class Message:
    subscription_id: int
    message_id: str
    body: str
    items: int


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


async def send(client: httpx.AsyncClient, url: str, secret: str, message: Message, *, allow_private: bool) -> Outcome:
    started = time.perf_counter()

    def done(ok: bool, status: int | None, error: str | None) -> Outcome:
        return Outcome(ok, status, error, int((time.perf_counter() - started) * 1000))

    # checked again before each attempt: the name may point elsewhere now than when it was subscribed
    refusal = outbound.shape_refusal(url) or await outbound.address_refusal(url, allow_private=allow_private)
    if refusal is not None:
        return done(False, None, f"URL refused: {refusal}")
    body = message.body.encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signing.headers(secret, message.message_id, int(time.time()), body),
    }
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return done(False, None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if 200 <= response.status_code < 300:
        return done(True, response.status_code, None)
    return done(False, response.status_code, f"HTTP {response.status_code}")
