"""Prometheus metrics and the ASGI middleware that counts requests per face.

Under ``secnode serve`` every worker writes its samples to files in one directory (prometheus-client's
multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``) and ``/metrics`` adds them up, so a scrape sees the whole node
whichever worker answers it: counters and histograms are summed over workers (including workers that have
exited); each gauge states how its workers' values combine (``multiprocess_mode``). docs/operations.md lists them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation import tally
from foundation.worker_metrics import DIRECTORY_VARIABLE

# Every worker reads the same rows when scraped: the most recent value is the node's.
SYNC_LAG = Gauge(
    "secnode_sync_journal_lag",
    "Journal rows not yet acknowledged by the top-level node",
    multiprocess_mode="mostrecent",
)
SYNC_FAILING = Gauge(
    "secnode_sync_failing", "1 while the reporter's last attempt failed", multiprocess_mode="mostrecent"
)
SYNC_LAST_SUCCESS = Gauge(
    "secnode_sync_last_success_timestamp_seconds",
    "When the top-level last acknowledged",
    multiprocess_mode="mostrecent",
)
ESCROW_DEPOSITS = Counter("secnode_escrow_deposits_total", "Escrow deposits written", ["type"])
ESCROW_LAST_DEPOSIT = Gauge(
    "secnode_escrow_last_deposit_timestamp_seconds",
    "When the last escrow deposit of a type was written",
    ["type"],
    multiprocess_mode="max",  # one process per node deposits; the latest time is the largest
)
ESCROW_UPLOADS = Counter(
    "secnode_escrow_uploads_total", "Escrow deposits sent, by destination and result", ["destination", "result"]
)
ESCROW_PENDING = Gauge(
    "secnode_escrow_pending_deposits",
    "Escrow deposits a destination has not received yet",
    ["destination"],
    multiprocess_mode="mostrecent",
)
LIMIT_REFUSED = Counter("secnode_limit_refused_total", "Requests refused because a budget was used up", ["budget"])
REQUESTS = Counter("secnode_http_requests_total", "HTTP requests", ["face", "method", "status"])
NATIVE_REQUESTS = Counter(
    "secnode_native_requests_total", "Native Handle protocol requests", ["transport", "opcode", "response_code"]
)
NATIVE_READY = Counter("secnode_native_ready_answers_total", "Native resolutions answered from a ready answer")
LATENCY = Histogram(
    "secnode_http_request_seconds",
    "HTTP request latency per face and operation (resolve, write, capture, trace, query, other)",
    ["face", "operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
AUDIT_APPENDS = Counter(
    "secnode_audit_appends_total", "Entries appended to the tamper-evident audit log, and failed appends", ["result"]
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


WEBHOOK_ATTEMPTS = Counter(
    "secnode_webhook_attempts_total", "Webhook delivery attempts by this worker", ["outcome"]
)  # outcome: delivered, failed
WEBHOOK_CHANGES = Counter("secnode_webhook_changes_delivered_total", "Changes acknowledged by webhook receivers")
WEBHOOK_DISABLED = Counter(
    "secnode_webhook_disabled_total", "Webhook subscriptions this worker disabled after a failure streak"
)


class WebhookProgress(Collector):
    """``secnode_webhook_lag{subscription}`` (journal rows after its cursor: not yet delivered or looked at) and
    ``secnode_webhook_consecutive_failures{subscription}`` of every subscription, and
    ``secnode_webhook_subscription_disabled{subscription}`` (1 while the node has it disabled); the delivery loop
    gives it the whole set every few seconds with ``replace``."""

    def __init__(self) -> None:
        self.subscriptions: dict[int, tuple[int, int, bool]] = {}  # id -> (lag, failures, disabled)

    def replace(self, subscriptions: dict[int, tuple[int, int, bool]]) -> None:
        self.subscriptions = dict(subscriptions)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "secnode_webhook_lag", "Journal rows after the subscription's cursor", labels=["subscription"]
        )
        failures = GaugeMetricFamily(
            "secnode_webhook_consecutive_failures",
            "Delivery attempts failed in a row",
            labels=["subscription"],
        )
        disabled = GaugeMetricFamily(
            "secnode_webhook_subscription_disabled",
            "1 while the node has disabled the subscription",
            labels=["subscription"],
        )
        for subscription, (behind, failed, off) in sorted(self.subscriptions.items()):
            lag.add_metric([str(subscription)], float(behind))
            failures.add_metric([str(subscription)], float(failed))
            disabled.add_metric([str(subscription)], 1.0 if off else 0.0)
        yield lag
        yield failures
        yield disabled


WEBHOOKS = WebhookProgress()
REGISTRY.register(WEBHOOKS)


class CertificateExpiry(Collector):
    """``secnode_certificate_expiry_timestamp_seconds{certificate}``: when each certificate the node presents stops
    being valid, read from its file when scraped (a renewed file is seen at the next scrape)."""

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self._read: dict[Path, tuple[float, float]] = {}  # file -> (modified at, not valid after)

    def watch(self, name: str, path: str | Path) -> None:
        self.files[name] = Path(path)

    def _not_after(self, path: Path) -> float | None:
        try:
            modified = path.stat().st_mtime
            cached = self._read.get(path)
            if cached is None or cached[0] != modified:
                certificate = x509.load_pem_x509_certificate(path.read_bytes())
                cached = self._read[path] = (modified, certificate.not_valid_after_utc.timestamp())
            return cached[1]
        except (OSError, ValueError):  # unreadable now: no sample, and the absence alert fires
            return None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "secnode_certificate_expiry_timestamp_seconds",
            "When a certificate the node presents expires (Unix time)",
            labels=["certificate"],
        )
        for name, path in sorted(self.files.items()):
            not_after = self._not_after(path)
            if not_after is not None:
                family.add_metric([name], not_after)
        yield family


CERTIFICATES = CertificateExpiry()
REGISTRY.register(CERTIFICATES)


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


def operation_of(face: str, method: str, path: str) -> str:
    """What a request does, for the latency histogram: reads and writes of records, and traceability's own."""
    reading = method in ("GET", "HEAD")
    if face == "traceability":
        if path.startswith("/trace/"):
            return "trace"
        return "query" if reading else "capture"
    if face in ("handle", "business"):
        return "resolve" if reading else "write"
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
            request_tally(face, scope["method"], status["code"]).inc()
            latency_tally(face, operation_of(face, scope["method"], scope["path"])).observe(
                time.perf_counter() - started
            )


_requests: dict[tuple[str, str, int], tally.CounterTally] = {}
_latencies: dict[tuple[str, str], tally.HistogramTally] = {}


def request_tally(face: str, method: str, status: int) -> tally.CounterTally:
    found = _requests.get((face, method, status))
    if found is None:
        found = _requests[(face, method, status)] = tally.counter(REQUESTS.labels(face, method, str(status)))
    return found


def latency_tally(face: str, operation: str) -> tally.HistogramTally:
    found = _latencies.get((face, operation))
    if found is None:
        found = _latencies[(face, operation)] = tally.histogram(LATENCY.labels(face, operation))
    return found


def _registry() -> CollectorRegistry:
    if not os.environ.get(DIRECTORY_VARIABLE):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(ENTERPRISE_NODES)  # computed when scraped; every worker runs the same checks
    registry.register(CERTIFICATES)
    registry.register(WEBHOOKS)  # every worker reads the same rows from the database
    return registry


Sample = tuple[dict[str, str], float]


def samples(*names: str) -> dict[str, list[Sample]]:
    """The node's current samples of the named series (``secnode_http_requests_total``,
    ``secnode_http_request_seconds_bucket``, …), as /metrics would show them."""
    tally.flush()
    found: dict[str, list[Sample]] = {name: [] for name in names}
    for family in _registry().collect():
        for sample in family.samples:
            if sample.name in found:
                found[sample.name].append((dict(sample.labels), sample.value))
    return found


def render() -> tuple[bytes, str]:
    """The exposition: the whole node's samples when workers share a directory, else this process's (this
    worker's tallies handed over first; the other workers' are at most a second behind)."""
    tally.flush()
    return generate_latest(_registry()), CONTENT_TYPE_LATEST
