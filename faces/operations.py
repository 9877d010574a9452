"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import PlainTextResponse, Response

from foundation import __version__
from foundation.db import Database
from foundation.http.dependencies import NodeDatabase, NodeRedis, NodeSettings
from foundation.http.responses import JSONBody
from foundation.metrics import SYNC_FAILING, SYNC_LAG, SYNC_LAST_SUCCESS, render
from registry.journal import repository as journal
from sync.reporter import CURSOR as SYNC_CURSOR

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process serves requests")
async def healthz() -> Response:
    return JSONBody({"status": "ok", "version": __version__})


@router.get(
    "/readyz",
    summary="Readiness: the database answers (503 if not); an unreachable Redis only degrades (200)",
    responses={503: {"description": "not ready: the database does not answer"}},
)
async def readyz(db: NodeDatabase, redis: NodeRedis) -> Response:
    checks: dict[str, str] = {}
    try:
        async with db.read_session() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not fail
        checks["database"] = f"error: {type(exc).__name__}"
    if redis is None:
        checks["cache"] = "in-process"
    else:
        try:
            await redis.ping()
            checks["cache"] = "ok"
        except Exception as exc:
            checks["cache"] = f"error: {type(exc).__name__}"
    # Without Redis the node still resolves from the database (writes are refused until it is back), so a
    # Redis outage must not take every pod out of the Service: it degrades readiness, it does not fail it.
    ready = not checks["database"].startswith("error")
    status = "not ready" if not ready else "degraded" if checks["cache"].startswith("error") else "ready"
    return JSONBody({"status": status, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(settings: NodeSettings, db: NodeDatabase) -> Response:
    if settings.upstream_url:
        await _sync_gauges(db)
    body, content_type = render()
    return PlainTextResponse(body, media_type=content_type)


async def _sync_gauges(db: Database) -> None:
    """The reporter runs in its own process; its state is read from the database when metrics are scraped."""
    async with db.read_session() as session:
        cursor = await journal.peek_cursor(session, SYNC_CURSOR)
        SYNC_LAG.set(max(0, await journal.last_seq(session) - (cursor.cursor if cursor else 0)))
    SYNC_FAILING.set(1 if cursor is not None and cursor.last_error else 0)
    if cursor is not None and cursor.last_success_at is not None:
        SYNC_LAST_SUCCESS.set(cursor.last_success_at.timestamp())
