"""Benchmark: warm resolution over the native Handle protocol (UDP and TCP) against bare asyncio servers answering a
constant message of the same size, measured in the same run with the same worker count.

    .venv/bin/python -m loadtests.bench_native [--records 1000] [--seconds 10] [--rounds 3] [--connections 64]
        [--workers 2] [--json native.json]

Starts, as ``bench_resolve`` does (its ``rig``: a fresh database on ``SECNODE_BENCH_DATABASE_URL``, a Redis server
of its own), ``secnode serve --workers N`` (granian) with the native face on a free port of its own, loads
``--records`` identifiers of a shape whose answer fits one UDP packet (a URL and three fields: 2641's default
answer limit refuses larger UDP answers with the TC flag, and Handle.Net clients then ask over TCP), and starts
``native_baseline`` with the same worker count: uvloop, SO_REUSEPORT, answering every request with the node's own
answer to one of these resolutions, captured in this run over UDP and over TCP.

Load comes from ``native_load.c``, compiled with the system's C compiler into a temporary directory: a closed loop
of ``--connections`` UDP sockets or persistent TCP connections with one RFC 3652 resolution request each
outstanding (public-only, recursive, certify flags as Handle.Net clients send them, the envelope's request id new
for every request), keys in a shuffled order. Every key is first resolved over every one of 16 sockets (each
worker's in-process tier holds them all), then UDP node, UDP baseline, TCP node, TCP baseline run ``--rounds``
times interleaved for ``--seconds`` each; each figure is the median of the rounds, and every round is printed.
Every answer's response code is checked: non-success (or truncated) answers are counted. Beside requests/s and
latency, each run gives the CPU time the server's processes used per answer (from /proc, the processes found with
``ss``) and the load generator's own CPU seconds (near ``--seconds``: the generator was the bottleneck). Target: node
>= 70% of the baseline's requests/s on UDP, and on TCP.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from loadtests.bench_batch_register import _dsn, setup_tenant
from loadtests.bench_resolve import load_records, rig
from tests.native_protocol import rfc_client as hdl
from tests.servers import free_port

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.70
WARM_CONNECTIONS = 16  # SO_REUSEPORT spreads sockets over the workers by address: 16 reach every worker


def native_record(prefix: str, serial: int, stamp: str) -> tuple[str, list[dict], str | None]:
    """A coil's handle with a URL and three fields: an answer of about 260 octets, one UDP packet."""
    fields = [
        (1, "URL", f"https://coils.example.com/C{serial:09d}"),
        (2000, "coilNo", f"C{serial:09d}"),
        (2001, "heatNo", f"H{serial % 9973:06d}"),
        (2002, "grade", "Q235B"),
    ]
    values = [
        {"index": i, "type": t, "ttl": 86400, "timestamp": stamp, "data": {"format": "string", "value": v}}
        for i, t, v in fields
    ]
    return f"{prefix}/COIL-{serial:09d}", values, None


def resolution_request(handle: str) -> bytes:
    """An RFC 3652 resolution request (envelope and message) as a Handle.Net 9 client sends it."""
    body = hdl.resolution_body(handle)
    return hdl.frame(hdl.message(hdl.OC_RESOLUTION, body, flags=hdl.DEFAULT_REQUEST_FLAGS))


def write_requests(path: Path, handles: list[str]) -> None:
    with path.open("wb") as out:
        for handle in handles:
            request = resolution_request(handle)
            out.write(len(request).to_bytes(4, "big") + request)


def compile_load(tmp: Path) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise RuntimeError("a C compiler (gcc or cc) is required for the load generator")
    binary = tmp / "native_load"
    subprocess.run(
        [compiler, "-O2", "-o", str(binary), str(Path(__file__).with_name("native_load.c"))],
        check=True,
        capture_output=True,
    )
    return binary


def listening_pids(port: int) -> list[int]:
    """The processes with a UDP socket on ``port``: the workers of the node or of the baseline (empty without ss)."""
    try:
        out = subprocess.run(["ss", "-Hulpn", f"sport = :{port}"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({int(pid) for pid in re.findall(r"pid=(\d+)", out)})


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def load(
    binary: Path,
    transport: str,
    port: int,
    requests: Path,
    connections: int,
    seconds: float,
    check_id: bool,
    passes: int = 0,
    pids: list[int] | None = None,
) -> dict:
    """One run of the load generator; its JSON figures, with the CPU time the server's processes ``pids`` used per
    answer (``server_cpu_us``; None without them)."""
    before = cpu_seconds(pids) if pids else 0.0
    done = subprocess.run(
        [binary, transport, HOST, str(port), str(requests), str(connections), str(seconds), str(int(check_id))]
        + [str(passes)],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr.strip()}")
    result = orjson.loads(done.stdout)
    used = cpu_seconds(pids) - before if pids else None
    result["server_cpu_us"] = used / result["answers"] * 1e6 if used is not None and result["answers"] else None
    return result


async def capture(port: int, handle: str) -> tuple[bytes, bytes]:
    """The node's answer to a resolution of ``handle`` over UDP and over TCP (waiting up to 30 s for the face)."""
    request = resolution_request(handle)
    deadline = time.monotonic() + 30
    while True:
        datagram = await hdl.send_udp_raw(HOST, port, request, timeout=1.0)
        if datagram is not None:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"no UDP answer on port {port}")
    stream = await hdl.send_tcp_raw(HOST, port, request, timeout=2.0)
    for kind, answer in (("UDP", datagram), ("TCP", stream)):
        response = hdl.decode_answer(answer)
        if response.response_code != hdl.RC_SUCCESS:
            raise RuntimeError(f"the node answered {kind} resolution of {handle} with code {response.response_code}")
    return datagram, stream


def start_baseline(workers: int, tmp: Path, udp_answer: bytes, tcp_answer: bytes) -> tuple[subprocess.Popen, int]:
    port = free_port()
    (tmp / "udp.bin").write_bytes(udp_answer)
    (tmp / "tcp.bin").write_bytes(tcp_answer)
    process = subprocess.Popen(
        [sys.executable, "-m", "loadtests.native_baseline", "--port", str(port), "--workers", str(workers)]
        + ["--udp-answer", str(tmp / "udp.bin"), "--tcp-answer", str(tmp / "tcp.bin")],
        cwd=ROOT,
        stdout=open(tmp / "native-baseline.log", "w"),
        stderr=subprocess.STDOUT,
    )
    return process, port


def _median(runs: list[dict]) -> dict:
    """Each figure's median over the rounds; non-success answers, timeouts and errors add up."""
    summed = ("answers", "nonsuccess", "truncated", "timeouts", "stale", "malformed", "errors")
    cpu = [r["server_cpu_us"] for r in runs if r["server_cpu_us"] is not None]
    return {
        **{key: statistics.median(r[key] for r in runs) for key in ("rps", "p50", "p90", "p99", "max", "client_cpu")},
        "server_cpu_us": statistics.median(cpu) if cpu else None,
        **{key: sum(r[key] for r in runs) for key in summed},
        "answer_octets": runs[-1]["answer_octets"],
        "runs": runs,
    }


async def run(
    records: int = 1000, seconds: float = 10, rounds: int = 3, connections: int = 64, workers: int = 2
) -> dict:
    native_port = free_port()
    node_env = {
        "SECNODE_NATIVE_ENABLED": "true",
        "SECNODE_NATIVE_HOST": HOST,
        "SECNODE_NATIVE_PORT": str(native_port),
    }
    runs: dict[str, list[dict]] = {}
    async with rig(workers, "granian", node_env) as bench:
        binary = compile_load(bench.tmp)
        prefix, _ = await setup_tenant(bench.node_url)
        await load_records(_dsn(bench.url), prefix, records, native_record)
        handles = [f"{prefix}/COIL-{serial:09d}" for serial in range(records)]
        random.shuffle(handles)
        requests = bench.tmp / "requests.bin"
        write_requests(requests, handles)
        udp_answer, tcp_answer = await capture(native_port, handles[0])
        baseline, baseline_port = start_baseline(workers, bench.tmp, udp_answer, tcp_answer)
        try:
            await capture(baseline_port, handles[0])  # it listens
            warming = {
                transport: load(binary, transport, native_port, requests, WARM_CONNECTIONS, 120, True, passes=1)
                for transport in ("udp", "tcp")
            }
            for name, warm in warming.items():
                if warm["nonsuccess"] or warm["answers"] < WARM_CONNECTIONS * records:
                    raise RuntimeError(f"warming over {name}: {warm}")
            pids = {"node": listening_pids(native_port), "baseline": listening_pids(baseline_port)}
            for _ in range(rounds):
                for transport in ("udp", "tcp"):
                    for target, port in (("node", native_port), ("baseline", baseline_port)):
                        result = load(
                            binary, transport, port, requests, connections, seconds, target == "node", pids=pids[target]
                        )
                        runs.setdefault(f"{transport} {target}", []).append(result)
        finally:
            baseline.terminate()
            baseline.wait()
    figures = {label: _median(r) for label, r in runs.items()}
    ratios = {}
    for transport in ("udp", "tcp"):
        node, base = figures[f"{transport} node"], figures[f"{transport} baseline"]
        ratios[f"{transport} req/s"] = node["rps"] / base["rps"] if base["rps"] else 0.0
        ratios[f"{transport} p99"] = base["p99"] / node["p99"] if node["p99"] else 0.0
        if node["server_cpu_us"] and base["server_cpu_us"]:  # what the ratio would be were the servers CPU-bound
            ratios[f"{transport} cpu"] = base["server_cpu_us"] / node["server_cpu_us"]
    return {
        "finished": datetime.now(UTC).isoformat(),
        "records": records,
        "seconds": seconds,
        "rounds": rounds,
        "connections": connections,
        "workers": workers,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "answer_octets": {"udp": len(udp_answer), "tcp": len(tcp_answer)},
        "routes": figures,
        "ratios": ratios,
        "targets": {"udp req/s": TARGET, "tcp req/s": TARGET},
    }


def print_result(r: dict) -> None:
    print(
        f"\n{r['records']} identifiers, {r['connections']} connections with one request outstanding each, "
        f"{r['seconds']} s per run, {r['workers']} worker(s) (node: secnode serve, granian; baseline: bare asyncio), "
        f"answers of {r['answer_octets']['udp']} octets (UDP) and {r['answer_octets']['tcp']} (TCP), "
        f"{r['cpus']} CPU(s), load average {' / '.join(f'{v:.2f}' for v in r['load_average'])}\n"
    )
    print(
        f"{'run':14} {'round':>5} {'req/s':>10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-ok':>7} {'lost':>5} "
        f"{'server CPU us/req':>17} {'client CPU s':>12}"
    )

    def row(label: str, round_: str, f: dict, lost: int) -> str:
        cpu = f"{f['server_cpu_us']:17.1f}" if f["server_cpu_us"] is not None else f"{'-':>17}"
        return (
            f"{label:14} {round_:>5} {f['rps']:10.0f} {f['p50']:8.2f} {f['p90']:8.2f} {f['p99']:8.2f} "
            f"{f['nonsuccess']:7d} {lost:5d} {cpu} {f['client_cpu']:12.2f}"
        )

    for label, route in r["routes"].items():
        for i, run_ in enumerate(route["runs"], 1):
            print(row(label, str(i), run_, run_["timeouts"]))
        print(row(label, "med", route, route["timeouts"]))
    for transport in ("udp", "tcp"):
        ratio, p99 = r["ratios"][f"{transport} req/s"], r["ratios"][f"{transport} p99"]
        node, base = r["routes"][f"{transport} node"], r["routes"][f"{transport} baseline"]
        print(
            f"\n{transport.upper()} node / baseline: {ratio:6.1%} of the requests/s (target >= {TARGET:.0%}); "
            f"p99 {node['p99']:.2f} ms against {base['p99']:.2f} ms (baseline / node {p99:.1%})"
        )
        if f"{transport} cpu" in r["ratios"]:
            print(
                f"{transport.upper()} server CPU per answer: node {node['server_cpu_us']:.1f} us, baseline "
                f"{base['server_cpu_us']:.1f} us: baseline / node {r['ratios'][f'{transport} cpu']:.1%}"
            )
    print(f"non-success answers: {sum(route['nonsuccess'] for route in r['routes'].values())}  (target 0)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each figure is their median")
    parser.add_argument("--connections", type=int, default=64, help="UDP sockets or TCP connections, one request each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    try:
        result = asyncio.run(run(args.records, args.seconds, args.rounds, args.connections, args.workers))
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    print_result(result)
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
