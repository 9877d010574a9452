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
def _serving(
    command: list[str], env: dict[str, str], cwd: Path, port: int, probe: str, name: str, timeout: float
) -> Iterator[str]:
    """Run ``command`` until ``probe`` answers on ``port``; stop it afterwards. Its output goes to a log in ``cwd``."""
    log_path = cwd / f"{name}-{port}.log"
    log = open(log_path, "w")
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log_path.read_text()}")
            try:
                if httpx.get(url + probe, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _environment(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SECNODE_")}, **extra}


@contextlib.contextmanager
def running_node(
    env: dict[str, str], cwd: Path, timeout: float = 60.0, extra_args: list[str] | None = None, port: int | None = None
) -> Iterator[str]:
    """``secnode serve`` as a real HTTP server."""
    port = port or free_port()
    command = [sys.executable, "-m", "node.cli", "serve", "--port", str(port), *(extra_args or [])]
    env = {"SECNODE_NATIVE_PORT": "0", **env}  # the native face on a port of its own unless the test names one
    with _serving(command, _environment(**env), cwd, port, "/healthz", "server", timeout) as url:
        yield url


@contextlib.contextmanager
def running_toplevel(cwd: Path, port: int | None = None, timeout: float = 30.0) -> Iterator[str]:
    """The reference top-level node as a real HTTP server (SQLite storage in ``cwd``)."""
    port = port or free_port()
    command = [sys.executable, "-m", "node.cli", "toplevel", "serve", "--port", str(port)]
    env = _environment(SECNODE_TOPLEVEL_DATABASE_URL=f"sqlite+aiosqlite:///{cwd}/toplevel.db")
    with _serving(command, env, cwd, port, "/v1/homing/0", "toplevel", timeout) as url:
        yield url
