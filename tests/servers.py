"""Start ``secnode serve`` as a real HTTP server in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_node(env: dict[str, str], cwd: Path, timeout: float = 60.0,
                 extra_args: list[str] | None = None, port: int | None = None) -> Iterator[str]:
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SECNODE_")}
    log = open(cwd / f"server-{port}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "node.cli", "serve", "--port", str(port), *(extra_args or [])],
                               env={**clean, **env}, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(cwd / f'server-{port}.log').read_text()}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextlib.contextmanager
def running_toplevel(cwd: Path, port: int | None = None, timeout: float = 30.0) -> Iterator[str]:
    """The reference top-level node as a real HTTP server (SQLite storage in ``cwd``)."""
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SECNODE_")}
    env = {**clean, "SECNODE_TOPLEVEL_DATABASE_URL": f"sqlite+aiosqlite:///{cwd}/toplevel.db"}
    log = open(cwd / f"toplevel-{port}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "node.cli", "toplevel", "serve", "--port", str(port)],
                               env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError((cwd / f"toplevel-{port}.log").read_text())
            try:
                httpx.get(url + "/v1/homing/0", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("top-level node did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
