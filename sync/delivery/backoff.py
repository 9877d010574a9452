"""When to try a failed message again: exponential backoff with a cap, and jitter so that the subscriptions of a
receiver that came back do not all retry in the same second."""

from __future__ import annotations

import random


def retry_delay(failures: int, base: float, cap: float) -> float:
    """Seconds before the next attempt after ``failures`` failed ones in a row: ``base`` doubling up to ``cap``,
    then between half of it and all of it."""
    ceiling = min(cap, base * 2 ** min(max(failures - 1, 0), 32))
    return random.uniform(ceiling / 2, ceiling)
