"""The chart's alert rules and Grafana dashboard: the rules pass ``promtool check rules`` and the unit tests of
``prometheus/alerts_test.yaml`` (``promtool test rules``); the dashboard's ConfigMap carries the sidecar's label and
every panel and rule asks for metrics that a node's ``/metrics`` really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.test_deployment import PROMETHEUS_OPERATOR_API, ROOT, of_kind, one, render
from tests.test_deployment import helm as helm  # noqa: F401 (fixture)

UNIT_TESTS = Path(__file__).parent / "prometheus" / "alerts_test.yaml"
METRIC = re.compile(r"\b(secnode_[a-z0-9_]+)")
HISTOGRAM_SERIES = re.compile(r"_(bucket|count|sum)$")


@pytest.fixture(scope="session")
def promtool() -> str:
    found = shutil.which("promtool") or ROOT / ".cache" / "prometheus" / "usr" / "bin" / "promtool"
    if not Path(found).exists():
        pytest.fail("promtool is missing: scripts/services.sh takes it out of Debian's prometheus package")
    return str(found)


@pytest.fixture(scope="module")
def monitored(helm: str) -> list[dict]:  # noqa: F811
    return render(
        helm,
        "--api-versions",
        PROMETHEUS_OPERATOR_API,
        "--set",
        "prometheusRule.enabled=true",
        "--set",
        "grafanaDashboard.enabled=true",
    )


def _rules_file(docs: list[dict], directory: Path) -> Path:
    rule = one(docs, "PrometheusRule")
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    return path


def _exported(exposition: str) -> set[str]:
    return {line.split()[2] for line in exposition.splitlines() if line.startswith("# TYPE ")}


def _asked_for(expressions: list[str]) -> set[str]:
    return {HISTOGRAM_SERIES.sub("", name) for expression in expressions for name in METRIC.findall(expression)}


def test_rules_pass_promtool_and_their_unit_tests(monitored, promtool, tmp_path):
    rules = _rules_file(monitored, tmp_path)
    checked = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    tested = subprocess.run([promtool, "test", "rules", UNIT_TESTS.name], capture_output=True, text=True, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # every alert is unit-tested and has its runbook
    alerts = {rule["alert"] for group in yaml.safe_load(rules.read_text())["groups"] for rule in group["rules"]}
    unit_tested = set(re.findall(r"alertname: (\w+)", UNIT_TESTS.read_text()))
    assert alerts - {"SecnodeErrorBudgetBurnSlow"} <= unit_tested, alerts - unit_tested
    runbooks = (ROOT / "docs" / "operations.md").read_text()
    for alert in alerts:
        assert f"### {alert}" in runbooks or f"### {alert.removesuffix('Fast').removesuffix('Slow')}" in runbooks


def test_rules_and_dashboard_only_on_request(helm, monitored):  # noqa: F811
    plain = render(helm, "--api-versions", PROMETHEUS_OPERATOR_API)
    assert of_kind(plain, "PrometheusRule") == []
    assert not [d for d in of_kind(plain, "ConfigMap") if d["metadata"]["name"].endswith("-dashboard")]
    assert of_kind(render(helm, "--set", "prometheusRule.enabled=true"), "PrometheusRule") == []  # no operator API


async def test_dashboard_and_rules_ask_for_exported_metrics(monitored, client):
    [dashboard_map] = [d for d in of_kind(monitored, "ConfigMap") if d["metadata"]["name"].endswith("-dashboard")]
    assert dashboard_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(dashboard_map["data"]["secnode.json"])
    panel_expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rule_expressions = [r["expr"] for g in one(monitored, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    await client.get("/api/handles/88.118/nothing-here")
    exported = _exported((await client.get("/metrics")).text)
    asked = _asked_for(panel_expressions + rule_expressions)
    assert asked and asked <= exported, asked - exported
    # the dashboard covers what the console's operations view shows
    for needed in ("secnode_resolve_source_total", "secnode_sync_journal_lag", "secnode_limit_refused_total"):
        assert needed in asked
