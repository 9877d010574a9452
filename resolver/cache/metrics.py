"""Cache counters for /metrics."""

from prometheus_client import Counter, Histogram

from foundation import tally

_RESOLVES = Counter("secnode_resolve_source_total", "Resolutions by the tier that answered", ["source"])
# counted once per resolution: tallied (foundation/tally.py)
LOCAL_HIT = tally.counter(_RESOLVES.labels("local"))
REDIS_HIT = tally.counter(_RESOLVES.labels("redis"))
DATABASE_READ = tally.counter(_RESOLVES.labels("database"))
PRIMARY_READ = Counter(
    "secnode_resolve_primary_fallback_total", "Cache misses read from the primary because the read replica was behind"
)
FALLBACK = Counter("secnode_cache_fallback_total", "Redis errors or timeouts answered from the database")
WRITE_REFUSED = Counter("secnode_cache_write_refused_total", "Writes refused because Redis was unreachable")
LEASE_RENEWED = Counter("secnode_cache_lease_renewals_total", "In-process tier lease renewals")
WRITE_WAIT = Histogram(
    "secnode_cache_invalidation_seconds",
    "Time a write waited for every worker to drop a key",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 2.5),
)
MISS_BATCH = Histogram(
    "secnode_resolve_miss_batch_keys",
    "Keys per batch of in-process misses read together (one Redis check, one database statement)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
