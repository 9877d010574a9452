"""Prometheus metrics and the ASGI middleware that counts requests per face."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SYNC_LAG = Gauge("secnode_sync_journal_lag", "Journal rows not yet acknowledged by the top-level node")
SYNC_FAILING = Gauge("secnode_sync_failing", "1 while the reporter's last attempt failed")
SYNC_LAST_SUCCESS = Gauge("secnode_sync_last_success_timestamp_seconds", "When the top-level last acknowledged")
ESCROW_DEPOSITS = Counter("secnode_escrow_deposits_total", "Escrow deposits written", ["type"])
ESCROW_LAST_DEPOSIT = Gauge(
    "secnode_escrow_last_deposit_timestamp_seconds", "When the last escrow deposit of a type was written", ["type"]
)
ESCROW_UPLOADS = Counter(
    "secnode_escrow_uploads_total", "Escrow deposits sent, by destination and result", ["destination", "result"]
)
ESCROW_PENDING = Gauge(
    "secnode_escrow_pending_deposits", "Escrow deposits a destination has not received yet", ["destination"]
)
LIMIT_REFUSED = Counter("secnode_limit_refused_total", "Requests refused because a budget was used up", ["budget"])
REQUESTS = Counter("secnode_http_requests_total", "HTTP requests", ["face", "method", "status"])
NATIVE_REQUESTS = Counter(
    "secnode_native_requests_total", "Native Handle protocol requests", ["transport", "opcode", "response_code"]
)
NATIVE_READY = Counter("secnode_native_ready_answers_total", "Native resolutions answered from a ready answer")
LATENCY = Histogram(
    "secnode_http_request_seconds",
    "HTTP request latency",
    ["face"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class EnterpriseNodeHealth(Collector):
    """``secnode_enterprise_node_up{prefix}`` (1 answered the last check, 0 did not) and
    ``secnode_enterprise_node_check_age_seconds{prefix}`` (since the last check, computed when scraped) of every
    enterprise node this worker knows of; ``replace`` gives it the whole set after each round."""

    def __init__(self) -> None:
        self.nodes: dict[str, tuple[bool | None, float | None]] = {}  # prefix -> (healthy, checked at, Unix time)

    def replace(self, nodes: dict[str, tuple[bool | None, float | None]]) -> None:
        self.nodes = dict(nodes)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "secnode_enterprise_node_up", "1 if the enterprise node answered its last health check", labels=["prefix"]
        )
        age = GaugeMetricFamily(
            "secnode_enterprise_node_check_age_seconds",
            "Seconds since the enterprise node was last checked",
            labels=["prefix"],
        )
        now = time.time()
        for prefix, (healthy, checked_at) in sorted(self.nodes.items()):
            if healthy is not None:
                up.add_metric([prefix], 1.0 if healthy else 0.0)
            if checked_at is not None:
                age.add_metric([prefix], max(0.0, now - checked_at))
        yield up
        yield age


ENTERPRISE_NODES = EnterpriseNodeHealth()
REGISTRY.register(ENTERPRISE_NODES)


def face_of(path: str) -> str:
    if path.startswith("/api/"):
        return "handle"
    if path.startswith(("/identity", "/snms/")):
        return "business"
    if path.startswith(("/epcis/", "/trace/")):
        return "traceability"
    if path in ("/healthz", "/readyz", "/metrics"):
        return "operations"
    return "other"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        face = face_of(scope["path"])
        status = {"code": 500}
        started = time.perf_counter()

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            REQUESTS.labels(face, scope["method"], str(status["code"])).inc()
            LATENCY.labels(face).observe(time.perf_counter() - started)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
