"""The consistency guarantee under load: after a write returns, no worker answers with the old record — with two
worker processes, a worker killed and Redis restarted during the run. A control run, whose writes bypass the
node's write path, shows that the checker does detect stale reads. A variant keeps batched cold reads in flight
throughout (ADR 0010): readers of never-read records fill every worker's miss batches, and the reads after each
write join those batches."""

import asyncio
import contextlib
import os
import re
import signal
import subprocess
from datetime import UTC, datetime

import asyncpg
import httpx
import orjson

from tests.conftest import ADMIN_PASSWORD, _asyncpg_dsn
from tests.factories import onboard
from tests.resolver.test_cache import own_redis  # noqa: F401 (fixture)
from tests.servers import running_node

HANDLES = 4
ROUNDS = 60
COLD_RECORDS = 30_000  # enough that the cold readers never ask a key twice
COLD_READERS = 24


async def _read(url: str, handle: str) -> str | None:
    # a new connection every time: the request may land on any worker; a killed one takes a while to come back
    # on a busy machine
    for _ in range(200):
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                response = await http.get(f"/api/handles/{handle}")
            assert response.status_code == 200, response.text
            return response.json()["values"][0]["data"]["value"]
        except (httpx.TransportError, httpx.RemoteProtocolError):
            await asyncio.sleep(0.05)  # a worker was just killed
    raise AssertionError("no worker answered")


async def _check(url: str, handles: list[str], write) -> tuple[int, int]:
    """Each handle is written by one task; every successful write is followed at once by a read."""
    stale = checked = 0

    async def one(handle: str) -> None:
        nonlocal stale, checked
        for n in range(ROUNDS):
            value = f"https://example.com/{n}"
            if not await write(handle, value):
                continue  # refused (Redis down: writes fail closed) or the worker died: nothing returned
            seen = await _read(url, handle)
            checked += 1
            stale += seen != value

    await asyncio.gather(*(one(h) for h in handles))
    return stale, checked


def _workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in out]


async def _seed_cold(database_url: str, prefix: str) -> list[str]:
    """Records written straight to the table (as a bulk load would), never read before the test reads them."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    now = datetime.now(UTC)
    handles = [f"{prefix}/cold-{n}" for n in range(COLD_RECORDS)]
    values = orjson.dumps(
        [
            {
                "index": 1,
                "type": "URL",
                "ttl": 86400,
                "timestamp": "2026-11-27T00:00:00Z",
                "data": {"format": "string", "value": "https://example.com/cold"},
            }
        ]
    ).decode()
    try:
        await connection.copy_records_to_table(
            "handles",
            records=[(h.lower(), h, prefix.lower(), 1, False, values, now, "test", now, "test") for h in handles],
            columns=[
                "handle_key",
                "handle",
                "prefix_key",
                "version",
                "deleted",
                "values",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
            ],
        )
    finally:
        await connection.close()
    return handles


class ColdLoad:
    """Readers of never-read records on kept-alive connections, so every worker always has misses in flight."""

    def __init__(self, url: str, handles: list[str]):
        self.url, self.handles, self.read, self.next = url, handles, 0, 0
        self.stopping = asyncio.Event()

    async def _reader(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            while not self.stopping.is_set() and self.next < len(self.handles):
                handle, self.next = self.handles[self.next], self.next + 1
                try:
                    response = await http.get(f"/api/handles/{handle}")
                except (httpx.TransportError, httpx.RemoteProtocolError):
                    await asyncio.sleep(0.05)  # a worker was just killed
                    continue
                assert response.status_code == 200, response.text
                self.read += 1

    async def __aenter__(self) -> "ColdLoad":
        self._tasks = [asyncio.create_task(self._reader()) for _ in range(COLD_READERS)]
        return self

    async def __aexit__(self, *exc) -> None:
        self.stopping.set()
        await asyncio.gather(*self._tasks)


async def _batched_misses(url: str) -> tuple[float, float]:
    """(batches, keys) of the miss batches of the worker that answers ``/metrics``."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        text = (await http.get("/metrics")).text
    count = re.search(r"^secnode_resolve_miss_batch_keys_count (\S+)$", text, re.M)
    total = re.search(r"^secnode_resolve_miss_batch_keys_sum (\S+)$", text, re.M)
    return (float(count[1]), float(total[1])) if count and total else (0.0, 0.0)


async def test_no_stale_reads_with_a_worker_killed_and_redis_restarted(fresh_node, database_url, tmp_path, own_redis):  # noqa: F811
    await _run_under_load(database_url, tmp_path, own_redis, cold_load=False)


async def test_no_stale_reads_with_batched_cold_reads_in_flight(fresh_node, database_url, tmp_path, own_redis):  # noqa: F811
    await _run_under_load(database_url, tmp_path, own_redis, cold_load=True)


async def _run_under_load(database_url, tmp_path, own_redis, *, cold_load: bool) -> None:  # noqa: F811
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": own_redis.url,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with running_node(env, tmp_path, extra_args=["--workers", "2"]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            tenant = await onboard(http, "loadcheck")
            handles = [f"{tenant.prefix}/c{i}" for i in range(HANDLES)]
            for handle in handles:
                response = await http.put(
                    f"/api/handles/{handle}",
                    headers=tenant.handle_admin,
                    json=[{"index": 1, "type": "URL", "data": "https://example.com/start"}],
                )
                assert response.status_code == 201, response.text
        await asyncio.sleep(2.5)  # both workers hold leases

        async def write(handle: str, value: str) -> bool:
            try:
                async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                    response = await http.put(
                        f"/api/handles/{handle}",
                        headers=tenant.handle_admin,
                        json=[{"index": 1, "type": "URL", "data": value}],
                    )
            except (httpx.TransportError, httpx.RemoteProtocolError):
                return False
            assert response.status_code in (200, 503), response.text
            return response.status_code == 200

        async def chaos() -> None:
            master = int(
                subprocess.run(
                    ["pgrep", "-f", f"node.cli serve --port {url.rsplit(':', 1)[1]}"], capture_output=True, text=True
                ).stdout.split()[0]
            )
            await asyncio.sleep(1.0)
            victims = _workers(master)
            assert len(victims) >= 2, "expected two worker processes"
            os.kill(victims[0], signal.SIGKILL)
            await asyncio.sleep(1.5)
            own_redis.stop()
            await asyncio.sleep(1.0)
            own_redis.restart()

        cold = await _seed_cold(database_url, tenant.prefix) if cold_load else []
        load = ColdLoad(url, cold[: COLD_RECORDS // 2])
        async with load if cold_load else contextlib.nullcontext():
            stale_and_checked, _ = await asyncio.gather(_check(url, handles, write), chaos())
        stale, checked = stale_and_checked
        print(f"consistency under load: {checked} write-then-read checks, {stale} stale, {load.read} cold reads")
        if cold_load:
            assert load.read > 1000, f"too few cold reads in flight ({load.read})"
            batches, keys = await _batched_misses(url)
            print(f"miss batches of one worker: {batches:.0f} with {keys:.0f} keys")
            assert keys > batches, "the cold reads were never batched"
        assert checked > HANDLES * ROUNDS // 2, f"too few writes succeeded to judge ({checked})"
        assert stale == 0, f"{stale} stale reads in {checked} write-then-read checks"

        # Control: the same checker, with writes that bypass the node's write path (no invalidation).
        connection = await asyncpg.create_pool(_asyncpg_dsn(database_url), min_size=1, max_size=2)

        async def write_around_the_node(handle: str, value: str) -> bool:
            await _read(url, handle)  # make sure the record is cached
            values = [
                {
                    "index": 1,
                    "type": "URL",
                    "ttl": 86400,
                    "timestamp": "2026-11-27T00:00:00Z",
                    "data": {"format": "string", "value": value},
                }
            ]
            await connection.execute(
                'UPDATE handles SET "values" = $1::jsonb, version = version + 1 WHERE handle_key = $2',
                orjson.dumps(values).decode(),
                handle.lower(),
            )
            return True

        try:
            control = ColdLoad(url, cold[COLD_RECORDS // 2 :])
            async with control if cold_load else contextlib.nullcontext():
                stale, checked = await _check(url, handles[:2], write_around_the_node)
        finally:
            await connection.close()
        print(f"control run: {checked} checks, {stale} stale")
        assert stale > 0, "the control run should have produced stale reads"
