"""A short headless locust run of the default scenarios against a live node (PostgreSQL + Redis)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.servers import running_node


def test_locust_scenarios_run_without_failures(fresh_node, database_url, tmp_path):
    root = Path(__file__).resolve().parent.parent
    env = {"SECNODE_DATABASE_URL": database_url, "SECNODE_REDIS_URL": REDIS_URL,
           "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with running_node(env, tmp_path) as url:
        result = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(root / "loadtests" / "locustfile.py"), "--headless",
             "-u", "10", "-r", "10", "-t", "6s", "--host", url, "--only-summary", "--exit-code-on-error", "1"],
            cwd=tmp_path, capture_output=True, text=True, timeout=180,
            env={**os.environ, "SECNODE_LOCUST_ADMIN_PASSWORD": ADMIN_PASSWORD, "SECNODE_LOCUST_RECORDS": "2000"})
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-3000:]
    assert "/api/handles/[coil]" in report
