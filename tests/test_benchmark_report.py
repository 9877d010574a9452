"""A short run of the benchmark report (tiny sizes): every section and figure is written, the plot is a real PNG.
Speed is not asserted here; the full report is `python -m loadtests.report`."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image

from loadtests.report_markdown import NATIVE_ROUTES, ROUTES
from tests.conftest import ADMIN_URL

SMALL = [
    "--records",
    "4000",
    "--working-set",
    "500",
    "--seconds",
    "1",
    "--rounds",
    "1",
    "--count",
    "2000",
    "--batch",
    "500",
    "--pairs",
    "300",
    "--capture-batch",
    "200",
    "--events",
    "6000",
    "--queries",
    "5",
    "--native-records",
    "50",
    "--native-seconds",
    "1",
    "--native-rounds",
    "1",
]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_benchmark_report_writes_every_section_and_a_plot(tmp_path):
    assert shutil.which("wrk"), "the resolution benchmark needs wrk (Debian package wrk)"
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "scale.txt").write_text("$ python -m loadtests.bench_scale\n  1,000 identifiers registered (1 s)\n")
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.report", "--output", str(tmp_path), *SMALL],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "SECNODE_BENCH_DATABASE_URL": ADMIN_URL},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = (tmp_path / "REPORT.md").read_text()

    assert ".venv/bin/python -m loadtests.report --output" in report
    for heading in [
        "# Benchmark report",
        "## Machine",
        "## Parameters",
        "## Resolution",
        "## Registration",
        "## Capture",
        "## Traceability",
        "## Native Handle protocol",
        "## Scale",
        "## Plot",
    ]:
        assert f"\n{heading}\n" in f"\n{report}", heading
    for fact in ["date", "CPU", "memory", "Python", "PostgreSQL", "Redis", "granian", "wrk", "code"]:
        assert re.search(rf"^\| {fact} \| .+ \|$", report, re.M), fact

    for label in ROUTES.values():  # req/s, p50, p99, non-2xx, each round's req/s
        assert re.search(
            rf"^\| {re.escape(label)} \| {NUMBER} \| {NUMBER} \| {NUMBER} \| \d+ \| [\d,. /]+ \|$", report, re.M
        ), label
    for label in NATIVE_ROUTES.values():  # req/s, p50, p99, non-success answers, each round's req/s
        assert re.search(
            rf"^\| {re.escape(label)} \| {NUMBER} \| {NUMBER} \| {NUMBER} \| 0 \| [\d,. /]+ \|$", report, re.M
        ), label
    assert re.search(r"^\| baseline: asyncpg COPY .* \| [\d,]+ \| [\d.]+ \(runs [\d., ]+\) \|$", report, re.M)
    assert re.search(r"^\| node: `POST /identityv2/data/batchCreate` \| [\d,]+ \| [\d.]+ \|$", report, re.M)
    assert re.search(r"^\| node: `POST /epcis/capture` \| [\d,]+ \| [\d.]+ \|$", report, re.M)
    assert re.search(rf"^- capture API / COPY: \*\*{NUMBER}%\*\* \(no target set\)$", report, re.M)
    for query in [
        "downstream trace, depth 10",
        "upstream trace, depth 10",
        "lifecycle query",
        "baseline: one trace-link look-up",
        "baseline: one lifecycle range scan",
    ]:
        assert re.search(rf"^\| {re.escape(query)} \| {NUMBER} \| {NUMBER} \|$", report, re.M), query
    for ratio in [
        "warm / const",
        "cold / select",
        "warm p99",
        "cold p99",
        "non-2xx answers",
        "batch API / COPY",
        "depth-10 trace p99",
        "UDP node / baseline requests/s",
        "TCP node / baseline requests/s",
    ]:
        assert re.search(
            rf"^- {re.escape(ratio)}: \*\*{NUMBER} ?(%|ms|×)?\*\* \(target .*: (met|\*\*missed\*\*)\)", report, re.M
        ), ratio

    assert "  1,000 identifiers registered (1 s)\n```" in report  # the scale run's saved output, as it came
    assert "](benchmarks.png)" in report
    png = tmp_path / "benchmarks.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(png)  # decodes the whole image
    assert pixels.shape[0] > 400 and pixels.shape[1] > 600 and pixels.std() > 0
