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
    with _serving_process(command, env, cwd, port, probe, name, timeout) as (url, _):
        yield url


@contextlib.contextmanager
def _serving_process(
    command: list[str], env: dict[str, str], cwd: Path, port: int, probe: str, name: str, timeout: float
) -> Iterator[tuple[str, subprocess.Popen]]:
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
        yield url, process
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
def running_node_process(
    env: dict[str, str], cwd: Path, timeout: float = 60.0, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``secnode serve`` as a real HTTP server in one process (uvicorn: no worker processes of its own), and that
    process, for a test that kills it."""
    port = port or free_port()
    command = [sys.executable, "-m", "node.cli", "serve", "--port", str(port), "--server", "uvicorn"]
    env = {"SECNODE_NATIVE_PORT": "0", **env}
    with _serving_process(command, _environment(**env), cwd, port, "/healthz", "server", timeout) as served:
        yield served


@contextlib.contextmanager
def running_toplevel(
    cwd: Path, port: int | None = None, timeout: float = 30.0, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """The reference top-level node as a real HTTP server (SQLite storage and its root key in ``cwd``)."""
    port = port or free_port()
    command = [sys.executable, "-m", "node.cli", "toplevel", "serve", "--port", str(port)]
    env = _environment(
        SECNODE_TOPLEVEL_DATABASE_URL=f"sqlite+aiosqlite:///{cwd}/toplevel.db",
        SECNODE_TOPLEVEL_ROOT_KEY_FILE=f"{cwd}/toplevel-root.key",
        **(extra_env or {}),
    )
    with _serving(command, env, cwd, port, "/v1/homing/0", "toplevel", timeout) as url:
        yield url


@contextlib.contextmanager
def running_homed_node(top: str, cwd: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A second node, prefix 88.119 (administrator secret ``AUTO_SECRET``), under the reference top-level node at
    ``top``, with ``88.119/PART-1`` registered and its prefix homed at the top level by one sync run."""
    cwd.mkdir()
    port = free_port()
    env = {
        "SECNODE_NODE_PREFIX": "88.119",
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": AUTO_SECRET,
        "SECNODE_UPSTREAM_URL": top,
        "SECNODE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **(extra_env or {}),
    }
    with running_node(env, cwd, port=port) as other:
        created = httpx.put(
            f"{other}/api/handles/88.119/PART-1",
            auth=("300:0.NA/88.119", AUTO_SECRET),
            json=[{"index": 1, "type": "URL", "data": "https://auto.example/part/1"}],
        )
        assert created.status_code == 201, created.text
        registered = subprocess.run(
            [sys.executable, "-m", "node.cli", "sync", "run", "--once"],
            cwd=cwd,
            env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert registered.returncode == 0, registered.stdout + registered.stderr
        yield other


AUTO_SECRET = "Auto-Secret-2026"
