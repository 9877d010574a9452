"""The benchmark report's plot: throughput and latency of the node against their same-run baselines."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt

BASELINE, NODE = "#9e9e9e", "#1f77b4"


def _bars(ax, labels: list[str], values: list[float], colors: list[str], fmt: str) -> None:
    bars = ax.bar(labels, values, color=colors)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(
            fmt.format(value),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def _latency(ax, labels: list[str], rows: list[dict], colors: list[str], title: str) -> None:
    """p50 as the bar, p99 as a black tick above it; log scale, since baselines and queries differ 100-fold."""
    positions = range(len(labels))
    ax.bar(positions, [r["p50"] for r in rows], color=colors)
    ax.scatter(positions, [r["p99"] for r in rows], marker="_", s=400, color="black", zorder=3)
    for x, row in zip(positions, rows, strict=True):
        ax.annotate(
            f"{_ms(row['p50'])} / {_ms(row['p99'])}",
            (x, row["p99"]),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 3),
            textcoords="offset points",
        )
    ax.set_xticks(list(positions), labels)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_title(title + "\nbar and first figure: p50; black tick and second figure: p99", fontsize=10)
    ax.margins(y=0.25)


def plot(results: dict, path: Path) -> None:
    resolve, register, trace = results["resolve"], results["register"], results["trace"]
    routes = resolve["routes"]
    order = ["const", "warm", "select", "cold"]  # each node route beside its baseline
    names = {
        "const": "constant\n(baseline)",
        "warm": "warm\n(node)",
        "select": "SELECT\n(baseline)",
        "cold": "cold\n(node)",
    }
    colors = [BASELINE, NODE, BASELINE, NODE]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))

    ax = axes[0][0]
    _bars(ax, [names[k] for k in order], [routes[k]["rps"] for k in order], colors, "{:,.0f}")
    ax.set_ylabel("requests/s")
    ax.set_title(
        f"Resolution throughput: warm {resolve['ratios']['warm/const']:.0%} of constant, "
        f"cold {resolve['ratios']['cold/select']:.0%} of SELECT",
        fontsize=10,
    )
    ax.margins(y=0.15)

    _latency(axes[0][1], [names[k] for k in order], [routes[k] for k in order], colors, "Resolution latency (wrk)")

    ax = axes[1][0]
    capture = results["capture"]
    _bars(
        ax,
        ["COPY of\nrecords", "batchCreate\n(node)", "COPY of\nevents", "capture\n(node)"],
        [register["copy_rate"], register["api_rate"], capture["copy_rate"], capture["api_rate"]],
        [BASELINE, NODE, BASELINE, NODE],
        "{:,.0f}",
    )
    ax.set_ylabel("identifiers or events/s")
    ax.set_title(
        f"Write throughput: batch API {register['ratio']:.0%} of COPY, capture {capture['ratio']:.0%} of COPY",
        fontsize=10,
    )
    ax.margins(y=0.15)

    labels = {
        "downstream trace, depth 10": "downstream\ntrace",
        "upstream trace, depth 10": "upstream\ntrace",
        "lifecycle query": "lifecycle\nquery",
        "baseline: one trace-link look-up": "link look-up\n(baseline)",
        "baseline: one lifecycle range scan": "range scan\n(baseline)",
    }
    keys = list(trace["rows"])
    _latency(
        axes[1][1],
        [labels.get(k, k) for k in keys],
        [trace["rows"][k] for k in keys],
        [BASELINE if k.startswith("baseline") else NODE for k in keys],
        f"Traceability latency ({trace['events']:,} events, {trace['queries']} queries each)",
    )

    machine = results["machine"]
    fig.suptitle(
        f"secnode benchmarks, {results['started']:%Y-%m-%d %H:%M} UTC; grey: baselines of the same run, "
        f"blue: the node\n{machine['CPU']}; PostgreSQL {machine['PostgreSQL'].split()[0]}, "
        f"Redis {machine['Redis'].split()[0]}, Python {machine['Python'].split()[-1]}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
