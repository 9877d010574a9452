"""OpenTelemetry traces of HTTP requests and of the PostgreSQL and Redis calls made while serving them. Off unless
the standard variables ask for it: ``OTEL_TRACES_EXPORTER`` (``otlp`` or ``console``; ``none`` keeps it off) or an
OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), and not
``OTEL_SDK_DISABLED=true``. Everything else (service name and resource attributes, sampler, batching, headers,
propagators) is the SDK's own reading of ``OTEL_*``. Off, nothing is imported and nothing is wrapped: the hot path
pays nothing."""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("secnode.tracing")

DEFAULT_SERVICE_NAME = "secnode"
# What the chart sets; the SDK reads these and the other OTEL_* variables itself.
OTEL_VARIABLES = {
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_RESOURCE_ATTRIBUTES",
}


def tracing_requested(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER")
    if exporter is not None:
        return exporter.strip().lower() not in ("", "none")
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER={name!r}: this node exports otlp (over HTTP) or console")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_*


def start_tracing() -> bool:
    """In each worker, before it opens connections: a tracer provider exporting in batches, and the database
    driver and Redis client instrumented. True when tracing is on."""
    if not tracing_requested():
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp")
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", DEFAULT_SERVICE_NAME)})
    provider = TracerProvider(resource=resource)  # sampler from OTEL_TRACES_SAMPLER
    for name in (n.strip().lower() for n in names.split(",") if n.strip()):
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))  # OTEL_BSP_* tune the batches
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument()
    RedisInstrumentor().instrument()
    log.info("secnode.tracing.on exporters=%s", names)
    return True


def traced(app: Any, hot_route: tuple[str, str]) -> Any:
    """The ASGI application inside a span per request (the caller's ``traceparent`` continued), named after the
    route that answered it (``PUT /api/handles/{handle}``), not its path, which would make every identifier a span
    name of its own. The hot path answers before any routing: ``hot_route`` (prefix, template) names its spans."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    hot_prefix, hot_template = hot_route

    def span_details(scope: dict[str, Any]) -> tuple[str, dict[str, str]]:
        method = scope.get("method", "HTTP")
        if scope.get("path", "").startswith(hot_prefix):
            return f"{method} {hot_template}", {"http.route": hot_template}
        return method, {}

    async def named_by_route(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def naming_send(message: dict[str, Any]) -> None:
            # Named when the answer starts: the router has matched by then, and the span ends with the answer.
            template = getattr(scope.get("route"), "path_format", None)
            if message["type"] == "http.response.start" and template is not None:
                span = trace.get_current_span()
                span.update_name(f"{scope.get('method', 'HTTP')} {template}")
                span.set_attribute("http.route", template)
            await send(message)

        await app(scope, receive, naming_send)

    # No spans for each message sent and received: two per request that say nothing an operator uses.
    return OpenTelemetryMiddleware(named_by_route, default_span_details=span_details, exclude_spans=["receive", "send"])
