"""Request ids and JSON logs on a real server (two workers, ``--access-log``, ``SECNODE_LOG_FORMAT=json``): every
answer carries ``X-Request-ID`` (the client's when sensible, else a new one, different for every request, ready
answers of the hot path included), and every line the server writes is a JSON object; a request's access line
carries the id its answer was given."""

from __future__ import annotations

import time

import httpx
import orjson

from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.servers import running_node


def _lines(log_text: str) -> list[dict]:
    return [orjson.loads(line) for line in log_text.splitlines() if line.strip()]


def test_every_answer_has_a_request_id_and_every_line_is_json(fresh_node, database_url, tmp_path):
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SECNODE_LOG_FORMAT": "json",
    }
    with running_node(env, tmp_path, extra_args=["--workers", "2", "--access-log"]) as url:
        ids = []
        for _ in range(4):  # the second and later are ready answers of the hot path
            with httpx.Client(base_url=url) as http:
                answer = http.get("/api/handles/0.NA/88.118")
            assert answer.status_code == 200
            ids.append(answer.headers["x-request-id"])
        assert len(set(ids)) == 4

        with httpx.Client(base_url=url) as http:
            chosen = http.get("/api/handles/88.118/absent", headers={"X-Request-ID": "scan-2026.12.03:7"})
            assert chosen.headers["x-request-id"] == "scan-2026.12.03:7"
            hostile = http.get("/healthz", headers={"X-Request-ID": '"}{"level": "forged'})
            assert hostile.headers["x-request-id"] != '"}{"level": "forged'  # replaced by one of the node's
            refused = http.post("/identity/token", json={"username": "admin", "password": "wrong-password"})
            assert refused.status_code in (400, 401) and refused.headers["x-request-id"]
        time.sleep(0.5)  # the access lines are written after the answers
        log_text = next(tmp_path.glob("server-*.log")).read_text()

    lines = _lines(log_text)  # raises on any line that is not JSON
    assert all({"time", "level", "logger", "message", "request_id"} <= line.keys() for line in lines)
    access = {line["request_id"]: line for line in lines if line["logger"] == "secnode.access"}
    for request_id in [*ids, "scan-2026.12.03:7", refused.headers["x-request-id"]]:
        assert request_id in access, request_id
    assert (
        access["scan-2026.12.03:7"]["status"] == 404
        and access["scan-2026.12.03:7"]["path"] == "/api/handles/88.118/absent"
    )
    assert access[refused.headers["x-request-id"]]["method"] == "POST"
    assert any(line["logger"] == "secnode" and line.get("url") == url for line in lines)  # the start-up lines too
