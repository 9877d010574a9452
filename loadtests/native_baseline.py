"""The native face's baseline: bare asyncio servers on UDP and TCP that answer every Handle protocol request with a
constant message (bench_native captures a real answer of the node and hands it over), in ``--workers`` processes
sharing one port with SO_REUSEPORT, on the event loop the node's workers run (uvloop when installed, as granian
chooses it).

    .venv/bin/python -m loadtests.native_baseline --port 2642 --workers 2 --udp-answer udp.bin --tcp-answer tcp.bin

UDP: every datagram is answered with the constant datagram. TCP: asyncio streams, as the node's face reads them
(an envelope, then as many octets as it announces), each message answered with the constant message on a connection
that stays open. Nothing is parsed beyond the envelope's length, nothing is looked up.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import signal
import socket
from pathlib import Path

ENVELOPE_SIZE = 20


class ConstantUdp(asyncio.DatagramProtocol):
    def __init__(self, answer: bytes):
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(self.answer, addr)  # type: ignore[union-attr]


async def serve(host: str, port: int, udp_answer: bytes, tcp_answer: bytes) -> None:
    async def constant(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(ENVELOPE_SIZE)
                await reader.readexactly(int.from_bytes(head[16:20], "big"))
                writer.write(tcp_answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(constant, host, port, reuse_port=True, backlog=1024)
    await loop.create_datagram_endpoint(
        lambda: ConstantUdp(udp_answer), local_addr=(host, port), family=socket.AF_INET, reuse_port=True
    )
    async with server:
        await asyncio.Event().wait()


def worker(host: str, port: int, udp_answer: bytes, tcp_answer: bytes) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(host, port, udp_answer, tcp_answer))
    else:
        uvloop.run(serve(host, port, udp_answer, tcp_answer))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--udp-answer", type=Path, required=True, help="the datagram every UDP request is answered")
    parser.add_argument("--tcp-answer", type=Path, required=True, help="the message every TCP request is answered")
    args = parser.parse_args()
    udp_answer, tcp_answer = args.udp_answer.read_bytes(), args.tcp_answer.read_bytes()
    processes = [
        multiprocessing.Process(target=worker, args=(args.host, args.port, udp_answer, tcp_answer), daemon=True)
        for _ in range(args.workers)
    ]
    for process in processes:
        process.start()

    def stop(*_: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()


if __name__ == "__main__":
    main()
