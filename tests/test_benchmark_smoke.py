"""Short runs of the registration, audit and native protocol benchmarks, so they keep working (full runs:
`python -m loadtests...`; the capture benchmark runs in the report's test)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_URL


def test_batch_registration_benchmark_runs(database_url):
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.bench_batch_register", "--count", "2000", "--batch", "500"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SECNODE_BENCH_DATABASE_URL": ADMIN_URL},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "batch API:" in result.stdout and "COPY baseline:" in result.stdout


def test_audit_benchmark_runs(database_url):
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.bench_audit", "--appends", "200", "--concurrency", "4"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SECNODE_BENCH_DATABASE_URL": ADMIN_URL},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "grouped (as the node does)" in result.stdout and "verifies: True" in result.stdout


def test_native_protocol_benchmark_runs(database_url, tmp_path):
    root = Path(__file__).resolve().parent.parent
    figures = tmp_path / "native.json"
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.bench_native", "--records", "50", "--seconds", "1", "--rounds", "1"]
        + ["--connections", "8", "--json", str(figures)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SECNODE_BENCH_DATABASE_URL": ADMIN_URL},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "UDP node / baseline" in result.stdout and "TCP node / baseline" in result.stdout
    assert "non-success answers: 0" in result.stdout
    routes = json.loads(figures.read_text())["routes"]
    assert set(routes) == {"udp node", "udp baseline", "tcp node", "tcp baseline"}
    assert all(route["answers"] > 0 and route["nonsuccess"] == 0 for route in routes.values())
    # the baseline answers with the node's own answer: the same size
    assert routes["udp node"]["answer_octets"] == routes["udp baseline"]["answer_octets"]
    assert routes["tcp node"]["answer_octets"] == routes["tcp baseline"]["answer_octets"]
