"""A webhook receiver for tests: a real HTTP server on a loopback port, in a thread of its own, that records every
request, answers the first ``fail_first`` with 500 (or every one while ``failing``), and can hold the first request
unanswered (``hold_first``) until released, then closes it without an answer — the node may be killed
meanwhile."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def seqs(self) -> list[int]:
        return [c["seq"] for c in self.json["data"].get("changes", [])]


@dataclass
class Receiver:
    url: str = ""
    fail_first: int = 0
    failing: bool = False
    hold_first: bool = False
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.answered is not None and 200 <= r.answered < 300]

    def changes(self) -> list[dict[str, Any]]:
        """Every change of every acknowledged message, in arrival order (duplicates kept)."""
        return [c for r in self.acknowledged() for c in r.json["data"].get("changes", [])]

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "the receiver's condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}; got {self.requests}"
            time.sleep(0.05)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received = Received({k.lower(): v for k, v in self.headers.items()}, body)
            with receiver.lock:
                receiver.requests.append(received)
                number = len(receiver.requests)
            if receiver.hold_first and number == 1:
                receiver.release.wait(timeout=30)
                self.close_connection = True
                return  # never answered: the sender cannot take it for acknowledged
            status = 500 if receiver.failing or number <= receiver.fail_first else 204
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:  # the node went away while we held its request
                return
            received.answered = status

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def receiving(**options: Any) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/secnode"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
