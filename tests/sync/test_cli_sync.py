"""`secnode sync run --once` and `secnode sync status` on the embedded default against the reference top-level."""

import subprocess
import sys

from tests.servers import running_toplevel


def test_sync_once_reports_the_whole_journal(tmp_path):
    node_dir = tmp_path / "node"
    node_dir.mkdir()
    with running_toplevel(tmp_path) as top:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(node_dir),
            "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": "Sync-Secret-2026",
            "SECNODE_UPSTREAM_URL": top,
        }
        result = subprocess.run(
            [sys.executable, "-m", "node.cli", "sync", "run", "--once"],
            cwd=node_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "lag 0" in result.stdout and "last error -" in result.stdout
        status = subprocess.run(
            [sys.executable, "-m", "node.cli", "sync", "status"],
            cwd=node_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "lag 0" in status.stdout
    standalone = subprocess.run(
        [sys.executable, "-m", "node.cli", "sync", "run", "--once"],
        cwd=node_dir,
        env={"PATH": "/usr/bin:/bin", "HOME": str(node_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert standalone.returncode == 2 and "standalone" in standalone.stdout


async def test_sync_once_refuses_while_another_process_reports(fresh_node, database_url, tmp_path):
    """One reporter per node: `sync run --once` beside a running reporter (here: its lock, held) sends nothing."""
    import asyncpg

    from sync.background import REPORTER_LOCK_ID
    from tests.conftest import ADMIN_PASSWORD, _asyncpg_dsn

    with running_toplevel(tmp_path) as top:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "SECNODE_DATABASE_URL": database_url,
            "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SECNODE_UPSTREAM_URL": top,
        }
        command = [sys.executable, "-m", "node.cli", "sync", "run", "--once"]
        holder = await asyncpg.connect(_asyncpg_dsn(database_url))
        try:
            assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", REPORTER_LOCK_ID)
            busy = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            assert busy.returncode == 1 and "another process" in busy.stdout, busy.stdout + busy.stderr
        finally:
            await holder.close()  # the lock goes with its session
        free = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert free.returncode == 0, free.stdout + free.stderr
