"""`secnode sync run --once` and `secnode sync status` on the embedded default against the reference top-level."""

import subprocess
import sys

from tests.servers import running_toplevel


def test_sync_once_reports_the_whole_journal(tmp_path):
    node_dir = tmp_path / "node"
    node_dir.mkdir()
    with running_toplevel(tmp_path) as top:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(node_dir), "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": "Sync-Secret-2026",
               "SECNODE_UPSTREAM_URL": top}
        result = subprocess.run([sys.executable, "-m", "node.cli", "sync", "run", "--once"], cwd=node_dir, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "lag 0" in result.stdout and "last error -" in result.stdout
        status = subprocess.run([sys.executable, "-m", "node.cli", "sync", "status"], cwd=node_dir, env=env,
                                capture_output=True, text=True, timeout=60)
        assert "lag 0" in status.stdout
    standalone = subprocess.run([sys.executable, "-m", "node.cli", "sync", "run", "--once"], cwd=node_dir,
                                env={"PATH": "/usr/bin:/bin", "HOME": str(node_dir)}, capture_output=True, text=True,
                                timeout=60)
    assert standalone.returncode == 2 and "standalone" in standalone.stdout
