"""A tally hands its metric exactly what the metric would have counted itself: the same buckets, count and sum
for a histogram, the same total for a counter, and nothing twice."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from foundation import tally

VALUES = (0.0005, 0.001, 0.0011, 0.05, 0.1, 0.5, 1.0, 3.0, 10.0, 12.5)


def _exposed(registry: CollectorRegistry, name: str) -> list[str]:
    lines = generate_latest(registry).decode().splitlines()
    return sorted(line.replace(name, "t") for line in lines if line.startswith(name) and "_created" not in line)


def test_a_histogram_tally_equals_direct_observations():
    registry = CollectorRegistry()
    buckets = (0.001, 0.01, 0.1, 1, 10)
    direct = Histogram("t_direct_seconds", "d", ["face"], buckets=buckets, registry=registry).labels("handle")
    tallied = tally.histogram(
        Histogram("t_tallied_seconds", "t", ["face"], buckets=buckets, registry=registry).labels("handle")
    )
    for value in VALUES:
        direct.observe(value)
        tallied.observe(value)
    tally.flush()
    tally.flush()  # a second flush hands over nothing more
    lines = generate_latest(registry).decode().splitlines()
    ours = sorted(
        line.replace("t_tallied", "t") for line in lines if line.startswith("t_tallied") and "_created" not in line
    )
    theirs = sorted(
        line.replace("t_direct", "t") for line in lines if line.startswith("t_direct") and "_created" not in line
    )
    assert ours == theirs and any('le="0.001"} 2.0' in line for line in ours)


def test_a_counter_tally_hands_over_its_count_once():
    registry = CollectorRegistry()
    counter = Counter("c_total", "c", registry=registry)
    tallied = tally.counter(counter)
    for _ in range(5):
        tallied.inc()
    tallied.inc(3)
    assert counter._value.get() == 0  # nothing until flushed
    tally.flush()
    tally.flush()
    assert counter._value.get() == 8 and tallied.pending == 0
