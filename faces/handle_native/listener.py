"""The native face's sockets: UDP and TCP on one port in every worker (SO_REUSEPORT shares them), framing
responses into envelopes, reassembling multi-packet UDP requests, and bounding what a client can make the node do.

- UDP: a message longer than one packet travels in packets of 492 octets numbered by the envelope's sequence
  number (Handle.Net's layout). An answer is at most ``native_udp_answer_ratio`` times the request's size (one
  packet at least), so a forged source address cannot turn the node into an amplifier; a larger answer is an error
  with the envelope's TC (truncated) flag, which tells the client to ask again over TCP. Answers to a challenge
  answer are exempt: the client proved its address by receiving the challenge.
- TCP: envelopes and messages back to back on one connection until the client closes it; a connection that sends
  no complete message for ``native_tcp_idle_seconds`` is closed, and beyond ``native_tcp_max_connections`` new
  connections are closed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from faces.handle_native import wire
from faces.handle_native.errors import MessageMalformed
from faces.handle_native.service import NativeService, request_digest
from faces.handle_native.wire import Envelope, Request, Response, error_body
from foundation import handle_protocol as protocol
from foundation import tally
from foundation.config import Settings
from foundation.errors import DomainError
from foundation.metrics import NATIVE_REQUESTS

log = logging.getLogger("secnode.native")

Signer = Callable[[bytes], bytes]  # the node's signature over octets

MAX_INFLIGHT = 2048  # UDP requests one worker serves at once; beyond, datagrams are dropped
PENDING_TTL = 10.0  # seconds a partial multi-packet UDP request is kept
MAX_PENDING_OCTETS = 8 * 1024 * 1024  # of partial multi-packet UDP requests, per worker
MAX_PIPELINED = 64  # requests one TCP connection may have waiting before it is read no further


def credential(signer: Signer, major: int, minor: int, session_id: int, request_id: int, signed: bytes) -> bytes:
    """An HS_SIGNED credential (RFC 3652 section 2.2.4) over the answer's header and body, preceded by what Handle.Net
    2.8 and later sign with them: versions, suggested versions, session id, request id and session counter (0)."""
    prefix = (
        bytes((major, minor, protocol.MAJOR, protocol.MINOR))
        + protocol.u32(session_id)
        + protocol.u32(request_id)
        + protocol.u32(0)
    )
    signed_info = protocol.text("SHA-256") + protocol.octets(signer(prefix + signed))
    head = b"\0\0\0\0" + protocol.text("") + protocol.u32(0) + protocol.text("HS_SIGNED")
    return head + protocol.octets(signed_info)


_counters: dict[tuple[str, int, int], tally.CounterTally] = {}


def count(transport: str, request: Request, response: Response) -> None:
    key = (transport, request.opcode, response.code)
    counter = _counters.get(key)
    if counter is None:
        labels = NATIVE_REQUESTS.labels(transport, str(request.opcode), str(response.code))
        counter = _counters[key] = tally.counter(labels)
    counter.inc()


def frame(request: Request, response: Response, signer: Signer | None = None) -> list[bytes]:
    """The response's messages, each with its envelope; signed when the request asks (CT) and the node can."""
    env = request.envelope
    major, minor = env.answer_version
    session_id = env.session_id if response.session_id is None else response.session_id
    digest = response.digest
    if digest is None and request.flag(protocol.RD):
        digest = request_digest(request)
    bodies = [response.body, *response.parts]
    certify = signer is not None and request.flag(protocol.CT)
    messages = []
    for i, body in enumerate(bodies):
        flags = (
            response.flags
            | (protocol.AT if response.code == protocol.RC_SUCCESS else 0)
            | (protocol.CT if certify else 0)
        )
        if i < len(bodies) - 1:
            flags |= protocol.CN
        else:
            flags &= ~protocol.CN
        prefix = b""
        if digest is not None:
            flags |= protocol.RD
            prefix = bytes((digest[0],)) + digest[1]
        payload = prefix + body
        signed = protocol.header_bytes(response.opcode, response.code, flags, len(payload)) + payload
        if certify and signer is not None:
            messages.append(
                signed + protocol.octets(credential(signer, major, minor, session_id, env.request_id, signed))
            )
        else:
            messages.append(signed + protocol.u32(0))
    return [protocol.envelope_bytes(major, minor, 0, session_id, env.request_id, 0, len(m)) + m for m in messages]


def refusal(envelope: Envelope, error: DomainError, code: int = protocol.RC_PROTOCOL_ERROR) -> bytes:
    """An error answer to a message that could not be read (no request to echo but its envelope)."""
    body = error_body(error.message)
    message = protocol.header_bytes(0, code, 0, len(body)) + body + protocol.u32(0)
    minor = min(envelope.minor, protocol.MINOR) if envelope.major == protocol.MAJOR else protocol.MINOR
    return (
        protocol.envelope_bytes(protocol.MAJOR, minor, 0, envelope.session_id, envelope.request_id, 0, len(message))
        + message
    )


def udp_packets(message_with_envelope: bytes) -> list[bytes]:
    """One envelope-led message split into UDP packets of at most 492 message octets, numbered from 0."""
    head, message = message_with_envelope[: protocol.ENVELOPE_SIZE], message_with_envelope[protocol.ENVELOPE_SIZE :]
    if len(message) <= protocol.UDP_DATA:
        return [message_with_envelope]
    packets = []
    for number, start in enumerate(range(0, len(message), protocol.UDP_DATA)):
        packets.append(head[:12] + number.to_bytes(4, "big") + head[16:] + message[start : start + protocol.UDP_DATA])
    return packets


def truncated_refusal(request: Request) -> bytes:
    body = error_body("the answer is too large for UDP: ask over TCP")
    message = protocol.header_bytes(request.opcode, protocol.RC_ERROR, 0, len(body)) + body + protocol.u32(0)
    env = request.envelope
    head = protocol.envelope_bytes(
        *env.answer_version, protocol.ENV_TRUNCATED, env.session_id, env.request_id, 0, len(message)
    )
    return head + message


class _Partial:
    __slots__ = ("chunks", "length", "started")

    def __init__(self, length: int):
        self.chunks: dict[int, bytes] = {}
        self.length = length
        self.started = time.monotonic()

    def add(self, sequence: int, data: bytes) -> bytes | None:
        expected = -(-self.length // protocol.UDP_DATA)
        if sequence >= expected:
            raise MessageMalformed("a packet's sequence number is beyond the message")
        self.chunks[sequence] = data
        if len(self.chunks) < expected:
            return None
        message = b"".join(self.chunks[i] for i in range(expected))
        if len(message) != self.length:
            raise MessageMalformed("the packets do not add up to the announced length")
        return message


class UdpFace(asyncio.DatagramProtocol):
    def __init__(self, service: NativeService, settings: Settings):
        self.service = service
        self.ratio = max(1, settings.native_udp_answer_ratio)
        self.transport: Any = None  # the loop's datagram transport
        self.inflight: set[asyncio.Task[None]] = set()
        self.partial: dict[tuple[object, int], _Partial] = {}
        self.partial_octets = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < protocol.ENVELOPE_SIZE or len(self.inflight) >= MAX_INFLIGHT:
            return  # nothing to answer to, or too busy: the client retries
        ready = self.service.ready.answer(data)
        if ready is not None:  # a public resolution answered before: no task, no decoding
            self._send(ready, addr)
            return
        try:
            envelope = wire.read_envelope(data)
        except DomainError as error:  # a length beyond any message: refused, addressed by what could be read
            self._send(refusal(_unread_envelope(data), error), addr)
            return
        try:
            message = self._message(envelope, data, addr)
            if message is None:
                return
            request = wire.read_message(envelope, message)
        except DomainError as error:
            self._send(refusal(envelope, error), addr)
            return
        request.source = addr[0]
        task = asyncio.get_running_loop().create_task(self._serve(request, data, addr))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    def _message(self, envelope: Envelope, data: bytes, addr: tuple[str, int]) -> bytes | None:
        if not envelope.truncated:
            return data[protocol.ENVELOPE_SIZE :]
        self._expire()
        key = (addr, envelope.request_id)
        partial = self.partial.get(key)
        if partial is None:
            if self.partial_octets + envelope.length > MAX_PENDING_OCTETS:
                raise MessageMalformed("too many partial requests: send large requests over TCP")
            partial = self.partial[key] = _Partial(envelope.length)
            self.partial_octets += envelope.length
        message = partial.add(envelope.sequence, data[protocol.ENVELOPE_SIZE :])
        if message is not None:
            del self.partial[key]
            self.partial_octets -= partial.length
        return message

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, p in self.partial.items() if now - p.started > PENDING_TTL]:
            self.partial_octets -= self.partial.pop(key).length

    async def _serve(self, request: Request, datagram: bytes, addr: tuple[str, int]) -> None:
        try:
            response = await self.service.answer(request)
            count("udp", request, response)
            messages = frame(request, response, self.service.signer)
        except Exception:  # the answer itself failed (a framing fault): logged, the client retries
            log.exception("secnode.native.udp_failed")
            return
        proven = request.opcode == protocol.OC_CHALLENGE_RESPONSE
        limit = max(self.ratio * len(datagram), protocol.UDP_PACKET)
        if not proven and sum(len(m) for m in messages) > limit:
            messages = [truncated_refusal(request)]
        elif response.ready is not None and len(messages) == 1 and len(messages[0]) <= protocol.UDP_PACKET:
            self.service.ready.keep(datagram, *response.ready, messages[0])
        for message in messages:
            for packet in udp_packets(message):
                self._send(packet, addr)

    def _send(self, packet: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(packet, addr)


class TcpConnection(asyncio.Protocol):
    """One TCP connection: envelopes and messages back to back. A ready answer is written from the callback; any
    other request waits for the ones before it, so answers leave in the order of their requests."""

    def __init__(self, face: TcpFace):
        self.face = face
        self.transport: Any = None
        self.peer = ""
        self.buffer = bytearray()
        self.pending: list[tuple[bytes, bytes]] = []  # (envelope, message) waiting for the worker task
        self.worker: asyncio.Task[None] | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.finished = False  # the client half-closed: close once its requests are answered

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if len(self.face.connections) >= self.face.max_connections:
            transport.close()
            return
        self.face.connections.add(self)
        self.peer = str((transport.get_extra_info("peername") or ("",))[0])
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.face.connections.discard(self)
        if self.deadline is not None:
            self.deadline.cancel()
        if self.worker is not None and not self.worker.done():
            self.worker.cancel()

    def eof_received(self) -> bool:
        """The client finished sending (a half-close): answer what it sent, then close."""
        self.finished = True
        return bool(self.pending) or (self.worker is not None and not self.worker.done())

    # a client that does not read its answers, or sends more requests than are answered, is read no further
    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()

    def _arm(self) -> None:
        """A complete message is due within the idle time."""
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = asyncio.get_running_loop().call_later(self.face.idle, self.transport.close)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= protocol.ENVELOPE_SIZE:
            head = bytes(self.buffer[: protocol.ENVELOPE_SIZE])
            try:
                envelope = wire.read_envelope(head)
            except DomainError as error:  # a length that lies: answer, then close (the stream is lost)
                self._write(refusal(_unread_envelope(head), error))
                self.transport.close()
                return
            end = protocol.ENVELOPE_SIZE + envelope.length
            if len(self.buffer) < end:
                return
            message = bytes(self.buffer[protocol.ENVELOPE_SIZE : end])
            del self.buffer[:end]
            self._arm()
            ready = self.face.service.ready.answer(head + message) if not envelope.truncated else None
            if ready is not None and not self.pending and (self.worker is None or self.worker.done()):
                self._write(ready)
                continue
            self.pending.append((head, message))
            if len(self.pending) >= MAX_PIPELINED:
                self.transport.pause_reading()
            if self.worker is None or self.worker.done():
                self.worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while self.pending:
            head, message = self.pending.pop(0)
            try:
                self._write_all(await self.face.answer(head, message, self.peer))
            except Exception:  # a framing fault: logged; the connection goes on
                log.exception("secnode.native.tcp_failed")
        if self.finished:
            self.transport.close()
        elif not self.transport.is_closing():
            self.transport.resume_reading()

    def _write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    def _write_all(self, messages: list[bytes]) -> None:
        if not self.transport.is_closing():
            self.transport.writelines(messages)


class TcpFace:
    def __init__(self, service: NativeService, settings: Settings):
        self.service = service
        self.idle = settings.native_tcp_idle_seconds
        self.max_connections = settings.native_tcp_max_connections
        self.connections: set[TcpConnection] = set()

    async def answer(self, head: bytes, message: bytes, peer: str) -> list[bytes]:
        envelope = wire.read_envelope(head)
        ready = self.service.ready.answer(head + message) if not envelope.truncated else None
        if ready is not None:
            return [ready]
        try:
            request = wire.read_message(envelope, message)
        except DomainError as error:
            return [refusal(envelope, error)]
        request.source = peer
        response = await self.service.answer(request)
        count("tcp", request, response)
        messages = frame(request, response, self.service.signer)
        if response.ready is not None and len(messages) == 1:
            self.service.ready.keep(head + message, *response.ready, messages[0])
        return messages


def _unread_envelope(head: bytes) -> Envelope:
    """The fields of an envelope that was refused (its length): enough to address the refusal."""
    major, minor = head[0], head[1]
    session, request = int.from_bytes(head[4:8], "big"), int.from_bytes(head[8:12], "big")
    return Envelope(major, minor, 0, major, minor, session, request, 0, 0)


class NativeListener:
    """Both sockets of one worker."""

    def __init__(self, service: NativeService, settings: Settings):
        self.service = service
        self.settings = settings
        self.udp_transport: asyncio.DatagramTransport | None = None
        self.tcp_server: asyncio.Server | None = None
        self.tcp = TcpFace(service, settings)
        self.udp_port = 0
        self.tcp_port = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        host, port = self.settings.native_host, self.settings.native_port
        self.tcp_server = await loop.create_server(
            lambda: TcpConnection(self.tcp), host, port, reuse_port=True, backlog=1024
        )
        self.tcp_port = self.tcp_server.sockets[0].getsockname()[1]
        udp_port = port or self.tcp_port  # port 0: the TCP socket's port, so both share one number
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        transport, _ = await loop.create_datagram_endpoint(
            lambda: UdpFace(self.service, self.settings), local_addr=(host, udp_port), family=family, reuse_port=True
        )
        self.udp_transport = transport
        self.udp_port = transport.get_extra_info("sockname")[1]
        log.info("secnode.native.listening host=%s tcp=%d udp=%d", host, self.tcp_port, self.udp_port)

    async def stop(self) -> None:
        if self.udp_transport is not None:
            self.udp_transport.close()
        if self.tcp_server is not None:
            self.tcp_server.close()
            for connection in list(self.tcp.connections):
                connection.transport.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.tcp_server.wait_closed(), 5)
