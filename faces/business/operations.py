"""Business API: the node administrator's operations overview — what the node is doing now, in one answer for the
console's live view: requests per face, resolutions per cache tier, refusals per budget, the slowest operations,
the upward sync, and registrations and resolutions per day and prefix. Counters run from the workers' start:
whoever polls computes rates from two answers and their ``generatedAt``."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, NodeSettings, ReadSession
from foundation.errors import Forbidden
from foundation.metrics import Sample, samples
from registry.journal import repository as journal
from registry.kernel.clock import utcnow
from registry.statistics import repository as statistics
from sync.reporter import CURSOR as SYNC_CURSOR

router = APIRouter(prefix="/snms/api/v5/operations", tags=["business: operations"], route_class=BUSINESS.route_class)

REQUESTS = "secnode_http_requests_total"
TIERS = "secnode_resolve_source_total"
REFUSALS = "secnode_limit_refused_total"
NATIVE = "secnode_native_requests_total"
BUCKETS = "secnode_http_request_seconds_bucket"


@router.get("/overview", summary="What the node is doing now, for the console's operations view (node administrator)")
async def overview(
    actor: BusinessActor,
    session: ReadSession,
    settings: NodeSettings,
    days: int = Query(7, ge=1, le=31, description="days of registrations and resolutions, today included"),
) -> Response:
    if not actor.is_node_admin:
        raise Forbidden("only the node administrator reads the operations overview")
    now = utcnow()
    found = samples(REQUESTS, TIERS, REFUSALS, NATIVE, BUCKETS)
    per_day = []
    for back in range(days - 1, -1, -1):
        day = (now - timedelta(days=back)).date()
        per_day.append(
            {
                "day": day.isoformat(),
                "registrations": await statistics.registrations_on(session, day),
                "resolutions": await statistics.resolutions_on(session, day),
            }
        )
    return ok(
        {
            "generatedAt": now.isoformat(),
            "requests": _summed(found[REQUESTS], "face") | {"native": sum(v for _, v in found[NATIVE])},
            "resolutionsByTier": _summed(found[TIERS], "source"),
            "refusalsByBudget": _summed(found[REFUSALS], "budget"),
            "slowest": _slowest(found[BUCKETS]),
            "sync": await _sync(session) if settings.upstream_url else None,
            "days": per_day,
        }
    )


def _summed(series: list[Sample], label: str) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for labels, value in series:
        totals[labels[label]] += value
    return dict(totals)


def _slowest(buckets: list[Sample]) -> list[dict[str, Any]]:
    """Per face and operation: requests so far and their median and 99th percentile (from the histogram's buckets,
    as Prometheus' histogram_quantile estimates them), the slowest first."""
    per_operation: dict[tuple[str, str], dict[float, float]] = defaultdict(dict)
    for labels, count in buckets:
        per_operation[(labels["face"], labels["operation"])][float(labels["le"])] = count
    rows: list[dict[str, Any]] = []
    for (face, operation), cumulative in per_operation.items():
        bounds = sorted(cumulative)
        total = cumulative[bounds[-1]]  # the +Inf bucket
        if total:
            rows.append(
                {
                    "face": face,
                    "operation": operation,
                    "count": total,
                    "p50Seconds": _quantile(0.5, bounds, cumulative),
                    "p99Seconds": _quantile(0.99, bounds, cumulative),
                }
            )
    return sorted(rows, key=lambda row: row["p99Seconds"] or 0.0, reverse=True)


def _quantile(q: float, bounds: list[float], cumulative: dict[float, float]) -> float | None:
    """Linear interpolation within the bucket holding the quantile; None when it falls in +Inf."""
    rank = q * cumulative[bounds[-1]]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= rank:
            if bound == float("inf"):
                return None
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return None


async def _sync(session: ReadSession) -> dict[str, object]:
    cursor = await journal.peek_cursor(session, SYNC_CURSOR)
    last = await journal.last_seq(session)
    return {
        "lag": max(0, last - (cursor.cursor if cursor else 0)),
        "lastSuccessAt": cursor.last_success_at.isoformat() if cursor and cursor.last_success_at else None,
        "lastAttemptAt": cursor.last_attempt_at.isoformat() if cursor and cursor.last_attempt_at else None,
        "topLevelReachable": bool(cursor and cursor.last_attempt_at and not cursor.last_error),
        "lastError": cursor.last_error if cursor else None,
    }
