"""Counts and latencies of the busiest paths kept in plain numbers and handed to their Prometheus metrics once a
second (and before each scrape this worker answers). Where workers share their samples (``foundation.metrics``),
every ``inc`` or ``observe`` is a locked write to a memory-mapped file, a few microseconds on a path whose whole
answer takes about fifteen; a tally costs an addition. So ``/metrics`` is at most a second behind the requests.

Used from the event loop's thread only, as the requests and the flushing task are."""

from __future__ import annotations

import asyncio
import contextlib
from bisect import bisect_left
from typing import Any

FLUSH_SECONDS = 1.0


class CounterTally:
    __slots__ = ("counter", "pending")

    def __init__(self, counter: Any) -> None:
        self.counter = counter  # a prometheus_client Counter (with its labels chosen)
        self.pending = 0

    def inc(self, amount: int = 1) -> None:
        self.pending += amount

    def flush(self) -> None:
        if self.pending:
            amount, self.pending = self.pending, 0
            self.counter.inc(amount)

    def value(self) -> float:
        """Everything counted, handed over or not."""
        return float(self.counter._value.get()) + self.pending


class HistogramTally:
    """Observations counted per bucket, handed over as one addition per bucket and one to the sum."""

    __slots__ = ("histogram", "bounds", "counts", "total")

    def __init__(self, histogram: Any) -> None:
        self.histogram = histogram  # a prometheus_client Histogram (with its labels chosen)
        self.bounds = list(histogram._upper_bounds)  # ends with +Inf
        self.counts = [0] * len(self.bounds)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def flush(self) -> None:
        if not any(self.counts):
            return
        counts, self.counts = self.counts, [0] * len(self.bounds)
        total, self.total = self.total, 0.0
        # What Histogram.observe does, once per bucket: each bucket holds the observations of its own interval.
        for bucket, count in zip(self.histogram._buckets, counts, strict=True):
            if count:
                bucket.inc(count)
        self.histogram._sum.inc(total)


_TALLIES: list[CounterTally | HistogramTally] = []


def counter(metric: Any) -> CounterTally:
    tally = CounterTally(metric)
    _TALLIES.append(tally)
    return tally


def histogram(metric: Any) -> HistogramTally:
    tally = HistogramTally(metric)
    _TALLIES.append(tally)
    return tally


def flush() -> None:
    for tally in _TALLIES:
        tally.flush()


async def flush_every_second() -> None:
    """Run for the life of the worker (cancelled when it stops, after a last flush)."""
    try:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            flush()
    finally:
        with contextlib.suppress(Exception):
            flush()
