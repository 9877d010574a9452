"""A Redis Cluster of the tests' own on free loopback ports (never the shared server on 6379): masters with one
replica each, a short node timeout so a failover takes about a second or two."""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NODE_TIMEOUT_MS = 1000


def _cluster_port() -> int:
    """A free loopback port below the ephemeral range whose cluster bus port (+10000) is free as well."""
    while True:
        port = random.randrange(20000, 22700)
        try:
            with socket.socket() as sock, socket.socket() as bus:
                sock.bind(("127.0.0.1", port))
                bus.bind(("127.0.0.1", port + 10000))
                return port
        except OSError:
            continue


class RedisCluster:
    def __init__(self, work: Path, ports: list[int]):
        self.work, self.ports = work, ports
        self.processes: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self, port: int) -> None:
        """Start (or restart, with its nodes.conf: it rejoins the cluster) the node on ``port``."""
        directory = self.work / str(port)
        directory.mkdir(exist_ok=True)
        self.processes[port] = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
                "--logfile",
                str(directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            self.cli(port, "PING", attempts=100)
        except RuntimeError:
            raise RuntimeError((directory / "redis.log").read_text()) from None

    def kill(self, port: int) -> None:
        """SIGKILL: no shutdown, no goodbye to the cluster."""
        process = self.processes.pop(port)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def cli(self, port: int, *command: str, attempts: int = 1) -> str:
        for _attempt in range(attempts):
            result = subprocess.run(["redis-cli", "-p", str(port), *command], capture_output=True, text=True)
            if result.returncode == 0 and not result.stdout.startswith("Could not connect"):
                return result.stdout
            time.sleep(0.1)
        raise RuntimeError(f"redis on {port}: {result.stdout}{result.stderr}")

    def role(self, port: int) -> str:
        return self.cli(port, "ROLE").split("\n")[0]

    def master_of_slot(self, slot: int) -> int:
        """The port of the node that serves ``slot`` now, as a live node sees it."""
        live = next(iter(self.processes))
        for line in self.cli(live, "CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" not in fields[2] or "fail" in fields[2]:
                continue
            for part in fields[8:]:
                low, _, high = part.partition("-")
                if low.isdigit() and int(low) <= slot <= int(high or low):
                    return int(fields[1].split(":")[1].split("@")[0])
        raise LookupError(f"no live master serves slot {slot}")

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Every slot served, every node agreeing, every master with a replica in sync."""
        deadline = time.monotonic() + timeout
        while True:
            states = [self.cli(port, "CLUSTER", "INFO") for port in self.processes]
            masters = [port for port in self.processes if self.role(port) == "master"]
            replicated = all("state=online" in self.cli(port, "INFO", "replication") for port in masters)
            if all("cluster_state:ok" in state for state in states) and replicated:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not healthy: {states}")
            time.sleep(0.2)


@contextlib.contextmanager
def redis_cluster(masters: int = 3) -> Iterator[RedisCluster]:
    work = Path(tempfile.mkdtemp(prefix="secnode-redis-cluster-"))
    cluster = RedisCluster(work, [_cluster_port() for _ in range(masters * 2)])
    try:
        for port in cluster.ports:
            cluster.start(port)
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in cluster.ports),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
        )
        cluster.wait_healthy()
        yield cluster
    finally:
        for port in list(cluster.processes):
            cluster.kill(port)
        shutil.rmtree(work, ignore_errors=True)
