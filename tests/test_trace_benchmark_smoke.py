"""A short run of the trace benchmark, so it keeps working (the full run loads about 1,000,000 events)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_URL


def test_trace_benchmark_runs(database_url):
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.bench_trace", "--events", "6000", "--queries", "5"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SECNODE_BENCH_DATABASE_URL": ADMIN_URL},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "depth-10 trace p99" in result.stdout
