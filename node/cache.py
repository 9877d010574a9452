"""The Redis connection (optional: without ``SECNODE_REDIS_URL`` the node uses in-process caching only)."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis


def make_redis(url: str, *, max_connections: int = 64) -> Redis:
    # A blocking pool waits for a free connection under load instead of raising "Too many connections".
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=2,
                                           socket_timeout=1, socket_connect_timeout=1)
    return Redis(connection_pool=pool)
