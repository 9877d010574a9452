"""PostgreSQL-side servers of the tests' own, on free loopback ports: PgBouncer in front of the test server, and a
primary with a streaming replica (never the shared server on 5432)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.servers import free_port


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL's and PgBouncer's tools refuse to run as root: run them as ``postgres`` then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _scratch_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _wait_for_port(port: int, log: Path, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}: {log.read_text() if log.exists() else ''}")


@contextlib.contextmanager
def running_pgbouncer(server_url: str, *, pool_size: int = 2) -> Iterator[int]:
    """PgBouncer in transaction pooling with few server connections (so clients share them), forwarding every
    database to the server of ``server_url`` with its credentials. Yields its port."""
    executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    url = make_url(server_url)
    work = _scratch_dir("secnode-pgbouncer-")
    port = free_port()
    (work / "users.txt").write_text(f'"{url.username}" "{url.password or ""}"\n')
    (work / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={url.host or '127.0.0.1'} port={url.port or 5432} user={url.username} "
        f"password={url.password or ''}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {work}/users.txt\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 500\n"
        f"logfile = {work}/pgbouncer.log\npidfile = {work}/pgbouncer.pid\n"
    )
    os.chmod(work, 0o755)
    process = subprocess.Popen(
        _as_server_user([executable, str(work / "pgbouncer.ini")]), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_port(port, work / "pgbouncer.log")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


def _bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(f"PostgreSQL's {tool} is not installed (Debian package postgresql)")
    return found[-1]


def _run(command: list[str]) -> None:
    subprocess.run(_as_server_user(command), check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def _cluster(data: Path, port: int) -> Iterator[str]:
    log = data.parent / f"{data.name}.log"
    _run([_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"])
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )


@contextlib.contextmanager
def primary_with_replica(apply_delay: str) -> Iterator[tuple[str, str]]:
    """A primary and a streaming replica that applies changes ``apply_delay`` late (recovery_min_apply_delay).
    Yields their URLs (user postgres, trust on loopback)."""
    work = _scratch_dir("secnode-replica-")
    primary, replica = work / "primary", work / "replica"
    primary_port, replica_port = free_port(), free_port()
    try:
        _run([_bin("initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "--no-sync"])
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {primary_port}\nunix_socket_directories = '{work}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nfsync = off\n"
            )
        with _cluster(primary, primary_port) as primary_url:
            _run(
                [
                    _bin("pg_basebackup"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(primary_port),
                    "-U",
                    "postgres",
                    "-D",
                    str(replica),
                    "-R",
                    "-X",
                    "stream",
                ]
            )
            with open(replica / "postgresql.conf", "a") as conf:
                conf.write(f"port = {replica_port}\nhot_standby = on\nrecovery_min_apply_delay = '{apply_delay}'\n")
            with _cluster(replica, replica_port) as replica_url:
                yield primary_url, replica_url
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- WAL archiving and point-in-time recovery (the restore drill) ----------------------------------------------


def _server_dir(path: Path) -> Path:
    """A directory the server user owns (the archive, the backups)."""
    path.mkdir(mode=0o700)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _start(data: Path) -> Path:
    """Start the cluster in ``data``, waiting until it accepts connections; failures carry the server's log."""
    log = data.parent / f"{data.name}.log"
    try:
        _run([_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"])
    except subprocess.CalledProcessError:
        raise RuntimeError(f"PostgreSQL in {data} did not start: {log.read_text() if log.exists() else ''}") from None
    return log


def _stop(data: Path, mode: str) -> None:
    subprocess.run(
        _as_server_user([_bin("pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"]), capture_output=True, timeout=60
    )


class ArchivingServer:
    """A PostgreSQL server of the test's own that copies every finished WAL segment into ``archive``, as a
    production primary ships its WAL to backup storage."""

    def __init__(self, work: Path):
        self.work = work
        self.data = work / "primary"
        self.archive = _server_dir(work / "archive")
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def create(self) -> None:
        _run([_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.work}'\n"
                "wal_level = replica\nmax_wal_senders = 4\narchive_mode = on\n"
                # never overwrite a segment already archived: a second copy would hide a mix-up of clusters
                f"archive_command = 'test ! -f {self.archive}/%f && cp %p {self.archive}/%f'\n"
            )

    def start(self) -> None:
        _start(self.data)

    def stop(self) -> None:
        """A clean shutdown. The unfinished WAL segment stays unarchived, as after a crash."""
        _stop(self.data, "fast")

    def base_backup(self, name: str = "base") -> Path:
        """``pg_basebackup -X none``: the backup holds no WAL, so restoring it needs the archive (as with
        pgBackRest, WAL-G or CloudNativePG). The tool waits until the segments the backup needs are archived."""
        target = self.work / name
        _run(
            [
                _bin("pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-D",
                str(target),
                "-X",
                "none",
                "-c",
                "fast",
                "--no-sync",
            ]
        )
        # every file against the backup manifest's checksums (its WAL is in the archive, not checked here)
        _run([_bin("pg_verifybackup"), "--no-parse-wal", str(target)])
        return target


@contextlib.contextmanager
def archiving_server() -> Iterator[ArchivingServer]:
    """An :class:`ArchivingServer`, started; stopped and removed afterwards with its archive and backups."""
    server = ArchivingServer(_scratch_dir("secnode-pitr-"))
    try:
        server.create()
        server.start()
        yield server
    finally:
        if server.data.exists():
            _stop(server.data, "immediate")
        shutil.rmtree(server.work, ignore_errors=True)


def _wait_for_promotion(data: Path, port: int, log: Path, timeout: float = 60.0) -> None:
    """pg_ctl returns once recovery is consistent (read-only); the drill needs the end of recovery."""
    deadline = time.monotonic() + timeout
    # a server that cannot reach its target stops itself: no need to wait for the deadline then
    while time.monotonic() < deadline and (data / "postmaster.pid").exists():
        answer = subprocess.run(
            _as_server_user(
                [
                    _bin("psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-tAc",
                    "SELECT pg_is_in_recovery()",
                ]
            ),
            capture_output=True,
            text=True,
            timeout=30,
        )
        if answer.stdout.strip() == "f":
            return
        time.sleep(0.1)
    raise RuntimeError(f"the restored server did not finish recovery: {log.read_text() if log.exists() else ''}")


@contextlib.contextmanager
def restored_server(backup: Path, archive: Path, target_time: str) -> Iterator[tuple[str, Path]]:
    """Point-in-time recovery: a copy of ``backup`` in a new data directory replays WAL from ``archive`` up to
    ``target_time`` and is promoted, on a port of its own. Yields its URL and its log once it accepts writes."""
    data = backup.parent / f"restored-{backup.name}"
    port = free_port()
    _run(["cp", "-a", str(backup), str(data)])
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            f"port = {port}\n"
            "archive_mode = off\n"  # the drill's archive stays as it was when the primary was lost
            f"restore_command = 'cp {archive}/%f %p'\n"
            f"recovery_target_time = '{target_time}'\n"
            "recovery_target_action = 'promote'\n"
        )
    _run(["touch", str(data / "recovery.signal")])
    log = _start(data)
    try:
        _wait_for_promotion(data, port, log)
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres", log
    finally:
        _stop(data, "immediate")
