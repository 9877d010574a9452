"""The Redis connection (optional: without ``SECNODE_REDIS_URL`` the node uses in-process caching only): a
standalone Redis or, with ``SECNODE_REDIS_CLUSTER``, a Redis Cluster reached through any of its nodes."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from foundation.config import Settings


def make_redis(settings: Settings, *, max_connections: int = 64) -> Redis | RedisCluster | None:
    if not settings.redis_url:
        return None
    if settings.redis_cluster:
        # redis-py follows the cluster's slot map and its failovers; a command whose node is down fails fast
        # (the cache treats it as a miss or refuses the write) instead of retrying for seconds.
        return RedisCluster.from_url(
            settings.redis_url,
            max_connections=max_connections,
            socket_timeout=1,
            socket_connect_timeout=1,
            retry=_one_quick_retry(),
        )
    # A blocking pool waits for a free connection under load instead of raising "Too many connections".
    # One quick retry: a pooled connection may be stale after a Redis restart.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=max_connections,
        timeout=2,
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=_one_quick_retry(),
        retry_on_error=[ConnectionError, TimeoutError],
    )
    return Redis(connection_pool=pool)


def _one_quick_retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.05, base=0.005), 1)


def replicas_to_wait(settings: Settings) -> int:
    """How many replicas confirm each cache change before it counts (ADR 0006)."""
    if settings.redis_wait_replicas is not None:
        return settings.redis_wait_replicas
    return 1 if settings.redis_cluster else 0
