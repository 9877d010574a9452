"""The enterprise nodes' health check: every ``enterprise_node_check_seconds`` each homed enterprise node is sent a
Handle protocol get-site-info request (RFC 3652, OC_GET_SITE_INFO) over UDP, else TCP, at the first server of its
site; an answer with response code 1 (RC_SUCCESS) is healthy. The outcome goes to the table, to ``/metrics``
(``foundation.metrics.ENTERPRISE_NODES``) and, through the reporter, to the top-level node.

One worker of the node checks per round: the one that takes the round's Redis key (``SET NX PX``, left to expire);
without Redis the node has one worker (``secnode serve`` refuses more), which checks. Every worker refreshes its
metrics from the table after each round.

The request is built with the protocol's numbers and layouts of ``foundation.handle_protocol``, which the native
face shares.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import update

from foundation import handle_protocol as protocol
from foundation.config import Settings
from foundation.db import Database
from foundation.metrics import ENTERPRISE_NODES
from registry.enterprise_nodes import service
from registry.enterprise_nodes.models import EnterpriseNode
from registry.kernel.clock import utcnow
from registry.kernel.syntax import canonical

log = logging.getLogger("secnode.enterprise_nodes")

REQUEST_FLAGS = protocol.REC | protocol.CA | protocol.PO  # Handle.Net's defaults
NO_SITE_SERIAL = 0xFFFF  # the asker has no site information
ROUND_KEY = "secnode:enterprise-nodes:round"
MAX_PARALLEL = 32


def site_info_request(request_id: int) -> bytes:
    """A get-site-info request: envelope, header, the handle "/" as body, no credential."""
    body = protocol.text("/")
    expiration = int(time.time()) + 43200
    header = protocol.header_bytes(protocol.OC_GET_SITE_INFO, 0, REQUEST_FLAGS, len(body), expiration, NO_SITE_SERIAL)
    message = header + body + protocol.u32(0)
    return protocol.envelope_bytes(protocol.MAJOR, protocol.MINOR, 0, 0, request_id, 0, len(message)) + message


def answer_code(answer: bytes, request_id: int) -> int | None:
    """The response code of the first packet of an answer to ``request_id``, or None when it is not one."""
    if len(answer) < protocol.ENVELOPE_SIZE + 8:
        return None
    _, _, _, _, _, answered_id, sequence, _ = protocol.ENVELOPE.unpack_from(answer)
    if answered_id != request_id or sequence != 0:
        return None
    opcode, code = struct.unpack_from(">II", answer, protocol.ENVELOPE_SIZE)
    return code if opcode == protocol.OC_GET_SITE_INFO else None


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, request_id: int) -> None:
        self.request_id = request_id
        self.answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        code = answer_code(data, self.request_id)
        if code is not None and not self.answer.done():
            self.answer.set_result(code)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable
        if not self.answer.done():
            self.answer.set_exception(exc)


async def _udp(address: str, port: int) -> int:
    request_id = secrets.randbits(31) or 1
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Datagrams(request_id), remote_addr=(address, port)
    )
    try:
        transport.sendto(site_info_request(request_id))
        return await protocol.answer
    finally:
        transport.close()


async def _tcp(address: str, port: int) -> int:
    request_id = secrets.randbits(31) or 1
    reader, writer = await asyncio.open_connection(address, port)
    try:
        writer.write(site_info_request(request_id))
        await writer.drain()
        code = answer_code(await reader.readexactly(protocol.ENVELOPE_SIZE + 8), request_id)
        if code is None:
            raise ConnectionError("the answer is not a get-site-info answer to this request")
        return code
    finally:
        writer.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"[:300] if str(exc) else type(exc).__name__


async def probe(site: dict[str, Any], seconds: float) -> str | None:
    """Ask the first server of ``site`` for its site information, over its UDP interface, then its TCP one if UDP
    does not answer, each within ``seconds``; None when it answered with success, else what went wrong."""
    servers = site.get("servers") or []
    if not servers:
        return "the site has no server"
    server = servers[0]
    interfaces = server.get("interfaces") or []
    Ask = Callable[[str, int], Coroutine[Any, Any, int]]
    udp: list[tuple[Ask, int, str]] = [(_udp, int(i["port"]), "UDP") for i in interfaces if i.get("protocol") == "UDP"]
    tcp: list[tuple[Ask, int, str]] = [(_tcp, int(i["port"]), "TCP") for i in interfaces if i.get("protocol") == "TCP"]
    tries = udp[:1] + tcp[:1]
    if not tries:
        return "the first server has no UDP or TCP interface"
    problems = []
    for ask, port, transport in tries:
        try:
            async with asyncio.timeout(seconds):
                code = await ask(str(server["address"]), port)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            problems.append(f"{transport} {server['address']}:{port}: {_describe(exc)}")
            continue
        if code == protocol.RC_SUCCESS:
            return None
        problems.append(f"{transport} {server['address']}:{port}: response code {code}")
    return "; ".join(problems)


@dataclass
class Outcome:
    prefix_key: str
    error: str | None


class EnterpriseNodeChecker:
    """Checks the homed enterprise nodes each round, records the outcome and keeps this worker's metrics."""

    def __init__(self, db: Database, settings: Settings, redis: Any = None, *, timeout: float = 2.0) -> None:
        self.db = db
        self.settings = settings
        self.redis = redis
        self.timeout = timeout

    async def _our_round(self) -> bool:
        if self.redis is None:
            return True
        lease_ms = max(1000, int(self.settings.enterprise_node_check_seconds * 900))
        try:
            return bool(await self.redis.set(ROUND_KEY, "1", nx=True, px=lease_ms))
        except RedisError as exc:  # better two workers checking than none
            log.warning("secnode.enterprise_nodes.round_lock_failed error=%s", exc)
            return True

    async def check_all(self) -> list[Outcome]:
        """Probe every homed enterprise node now and record the outcomes (whoever else is checking)."""
        async with self.db.read_session() as session:
            nodes = await service.list_homed(session)
        gate = asyncio.Semaphore(MAX_PARALLEL)

        async def one(node: dict[str, Any]) -> Outcome:
            async with gate:
                return Outcome(canonical(node["prefix"]), await probe(node["site"], self.timeout))

        outcomes = list(await asyncio.gather(*(one(n) for n in nodes)))
        now = utcnow()
        async with self.db.unit_of_work() as session:
            for outcome in outcomes:  # a node unhomed meanwhile updates nothing
                failed = outcome.error is not None
                await session.execute(
                    update(EnterpriseNode)
                    .where(EnterpriseNode.prefix_key == outcome.prefix_key)
                    .values(
                        last_checked_at=now,
                        healthy=not failed,
                        last_error=outcome.error,
                        consecutive_failures=(EnterpriseNode.consecutive_failures + 1) if failed else 0,
                    )
                )
        for outcome in outcomes:
            if outcome.error is not None:
                log.warning("secnode.enterprise_nodes.unhealthy prefix=%s error=%s", outcome.prefix_key, outcome.error)
        return outcomes

    async def refresh_metrics(self) -> None:
        async with self.db.read_session() as session:
            nodes = await service.list_homed(session)
        ENTERPRISE_NODES.replace(
            {
                n["prefix"]: (
                    n["healthy"],
                    None if n["lastCheckedAt"] is None else _timestamp(n["lastCheckedAt"]),
                )
                for n in nodes
            }
        )

    async def round(self) -> bool:
        """One round: check if this worker takes it, then refresh the metrics; True if it checked."""
        ours = await self._our_round()
        if ours:
            await self.check_all()
        await self.refresh_metrics()
        return ours

    async def run(self) -> None:
        interval = self.settings.enterprise_node_check_seconds
        if interval <= 0:
            return
        while True:
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed round (database down) must not end the checks
                log.exception("secnode.enterprise_nodes.round_failed")
            await asyncio.sleep(interval)


def _timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
