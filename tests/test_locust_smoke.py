"""Short headless locust runs of every scenario against a live node (PostgreSQL + Redis): no error response."""

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.servers import running_node

RESOLVE = {"/api/handles/[coil]", "/api/handles/[coil]?type=", "/api/handles/[unknown]"}
REGISTER = {"/identityv2/data/batchCreate", "/api/handles/[note] PUT"}
TRACE = {"/trace/downstream", "/trace/upstream", "/epcis/events?MATCH_anyEPC="}

# (user classes on the command line, users, request names that must all appear, groups of which one must appear)
SCENARIOS = {
    "resolve": (["ResolveUser"], 10, RESOLVE, []),
    "register": (["RegisterUser"], 20, REGISTER, []),
    "trace": (["TraceUser"], 10, TRACE, []),
    # 23 users spread by the weights 20:1:2 give every class at least one user
    "mixed": ([], 23, set(), [RESOLVE, REGISTER, TRACE]),
}


def _problem(
    url: str, classes: list[str], users: int, every: set[str], any_of: list[set[str]], prefix: Path
) -> str | None:
    """Run one scenario headless; what went wrong, or None."""
    locustfile = Path(__file__).resolve().parent.parent / "loadtests" / "locustfile.py"
    with open(f"{prefix}.log", "w") as log:
        try:
            code = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(locustfile),
                    "--headless",
                    "-u",
                    str(users),
                    "-r",
                    str(users),
                    "-t",
                    "3s",
                    "--host",
                    url,
                    "--only-summary",
                    "--exit-code-on-error",
                    "1",
                    "--csv",
                    str(prefix),
                    *classes,
                ],
                cwd=prefix.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=90,
                env={
                    **os.environ,
                    "SECNODE_LOCUST_ADMIN_PASSWORD": ADMIN_PASSWORD,
                    "SECNODE_LOCUST_RECORDS": "1000",
                    "SECNODE_LOCUST_TRACE_SCALE": "1",
                },
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    stats = Path(f"{prefix}_stats.csv")
    with stats.open(newline="") if stats.exists() else open(os.devnull) as lines:
        rows = {r["Name"]: r for r in csv.DictReader(lines) if r["Name"] != "Aggregated"}
    failures = {name: r["Failure Count"] for name, r in rows.items() if int(r["Failure Count"])}
    requested = {name for name, r in rows.items() if int(r["Request Count"]) > 0}
    if code or failures or not every <= requested or not all(group & requested for group in any_of):
        output = Path(f"{prefix}.log").read_text()
        return f"exit code {code}, failures {failures}, requested {sorted(requested)}\n{output[-2000:]}"
    return None


def test_every_locust_scenario_runs_without_failures(fresh_node, database_url, tmp_path):
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    # one node for all scenarios, one after the other: each run onboards enterprises of its own, and concurrent
    # applications for "the next free prefix code" would collide
    with running_node(env, tmp_path) as url:
        problems = {
            name: _problem(url, classes, users, every, any_of, tmp_path / name)
            for name, (classes, users, every, any_of) in SCENARIOS.items()
        }
    problems = {name: problem for name, problem in problems.items() if problem}
    assert not problems, "\n\n".join(f"{name}: {problem}" for name, problem in problems.items())
