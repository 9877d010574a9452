"""OpenTelemetry on a real server: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at an OTLP/HTTP receiver (a real
HTTP server in this test that decodes what the node's exporter sends), a request continues the caller's trace
(``traceparent``) in a server span whose children are the PostgreSQL and Redis calls made for it, and the request's
log line names the trace. Without the variables nothing is traced."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from foundation.tracing import tracing_requested
from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.factories import onboard
from tests.servers import free_port, running_node

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@contextlib.contextmanager
def otlp_receiver() -> Iterator[tuple[str, list]]:
    spans: list = []  # (resource attributes, span)

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    spans.extend((resource, span) for span in scope_spans.spans)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", spans
    finally:
        server.shutdown()


def _attributes(span) -> dict[str, str]:
    return {a.key: a.value.string_value or str(a.value.int_value) for a in span.attributes}


async def test_a_request_is_traced_with_its_database_and_redis_calls(fresh_node, database_url, tmp_path):
    with otlp_receiver() as (endpoint, spans):
        env = {
            "SECNODE_DATABASE_URL": database_url,
            "SECNODE_REDIS_URL": REDIS_URL,
            "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SECNODE_LOG_FORMAT": "json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_SERVICE_NAME": "secnode-under-test",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        with running_node(env, tmp_path, extra_args=["--access-log"]) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                tenant = await onboard(http, "traced")
                written = await http.put(
                    f"/api/handles/{tenant.prefix}/T-1",
                    headers={**tenant.handle_admin, "traceparent": TRACEPARENT},
                    json=[{"index": 1, "type": "URL", "data": "https://example.com/t1"}],
                )
                assert written.status_code == 201, written.text
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(s.trace_id.hex() == TRACE_ID for _, s in spans):
                time.sleep(0.2)
            time.sleep(0.5)  # the rest of the batch
            log_text = next(tmp_path.glob("server-*.log")).read_text()

    ours = [(resource, span) for resource, span in spans if span.trace_id.hex() == TRACE_ID]
    assert ours, f"no span of the caller's trace among {len(spans)}"
    assert {resource["service.name"] for resource, _ in ours} == {"secnode-under-test"}
    [server] = [span for _, span in ours if span.kind == span.SPAN_KIND_SERVER]
    assert server.name == "PUT /api/handles/{handle}" and _attributes(server)["http.route"] == "/api/handles/{handle}"
    assert server.parent_span_id.hex() == "00f067aa0ba902b7"  # the caller's span
    assert _attributes(server).get("http.method", _attributes(server).get("http.request.method")) == "PUT"
    systems = {_attributes(span).get("db.system", _attributes(span).get("db.system.name")) for _, span in ours}
    assert {"postgresql", "redis"} <= systems, systems
    children = {span.span_id for _, span in ours if span.kind == span.SPAN_KIND_CLIENT}
    assert children and all(span.parent_span_id for _, span in ours if span.span_id in children)

    # every request's span is named after its route: a template, never an identifier
    names = {span.name for _, span in spans if span.kind == span.SPAN_KIND_SERVER}
    assert "GET /healthz" in names and not any(tenant.prefix in name for name in names), names

    request_lines = [orjson.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    [access] = [line for line in request_lines if line["logger"] == "secnode.access" and line["method"] == "PUT"]
    assert access["trace_id"] == TRACE_ID and access["request_id"] == written.headers["x-request-id"]


def test_tracing_is_off_unless_asked():
    assert not tracing_requested({})
    assert not tracing_requested({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"})
    assert not tracing_requested({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"})
    assert tracing_requested({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x/v1/traces"})
    assert tracing_requested({"OTEL_TRACES_EXPORTER": "console"})
