"""The Redis connection (optional: without ``SECNODE_REDIS_URL`` the node uses in-process caching only)."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError


def make_redis(url: str, *, max_connections: int = 64) -> Redis:
    # A blocking pool waits for a free connection under load instead of raising "Too many connections".
    # One quick retry: a pooled connection may be stale after a Redis restart.
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=2,
                                           socket_timeout=1, socket_connect_timeout=1,
                                           retry=Retry(ExponentialBackoff(cap=0.05, base=0.005), 1),
                                           retry_on_error=[ConnectionError, TimeoutError])
    return Redis(connection_pool=pool)
