"""Schemathesis against the node's own OpenAPI document: every operation, with generated and mutated requests,
anonymously, as the node administrator and as an enterprise's Handle identity. No answer may be a 5xx, answer a
status its operation does not declare, or break the schema (content type, documented headers and bodies, the
error envelope of its face). A bounded number of examples per operation and a
fixed seed per run keep it short and repeatable; raise ``SECNODE_TEST_SCHEMATHESIS_EXAMPLES`` for a longer hunt."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.factories import admin_headers, onboard
from tests.servers import running_node

EXAMPLES = os.environ.get("SECNODE_TEST_SCHEMATHESIS_EXAMPLES", "10")
CHECKS = (
    "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,"
    "response_headers_conformance"
)


def _schemathesis(url: str, headers: dict[str, str], seed: int, work: Path) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--no-color",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=work)  # its cache goes there


@pytest.mark.timeout(900)
async def test_no_operation_answers_5xx_or_breaks_its_schema(fresh_node, database_url, tmp_path):
    assert shutil.which(str(Path(sys.executable).parent / "st")), "schemathesis is part of the test extra"
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with running_node(env, tmp_path) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            tenant = await onboard(http, "fuzzed")
            admin = await admin_headers(http)
        for seed, headers in [(1, {}), (2, admin), (3, tenant.handle_admin)]:
            result = _schemathesis(url, headers, seed, tmp_path)
            summary = result.stdout[-3000:]
            assert result.returncode == 0, summary + result.stderr[-2000:]
            assert " passed" in summary and "generated" in summary, summary
