"""Short runs of the registration and audit benchmarks, so they keep working (full runs: `python -m loadtests...`;
the capture benchmark runs in the report's test)."""

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
