"""REPORT.md of the benchmark report: every figure next to its same-run baseline, with the machine it ran on."""

from __future__ import annotations

ROUTES = {  # bench_resolve label -> what it is
    "const": "baseline: bare Starlette route, constant JSON",
    "select": "baseline: bare Starlette route, one asyncpg primary-key SELECT",
    "cold": "node, cold resolves (both cache tiers miss, PostgreSQL read)",
    "warm": "node, warm resolves (in-process tier)",
}


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _machine(results: dict) -> list[str]:
    started, finished = results["started"], results["finished"]
    minutes = (finished - started).total_seconds() / 60
    loads = [f"{' / '.join(f'{v:.2f}' for v in results[k])}" for k in ("load_start", "load_end")]
    rows = [["date", f"{started:%Y-%m-%d %H:%M} UTC, {minutes:.1f} min"]]
    rows += [[key, value] for key, value in results["machine"].items()]
    rows.append(["load average (1/5/15 min) at start, at end", f"{loads[0]}; {loads[1]}"])
    return [
        "## Machine",
        "",
        *_table(["fact", "value"], rows),
        "",
        "The load average shows other work on the machine: compare the ratios, not absolute figures, across runs.",
        "",
    ]


def _parameters(params: dict, results: dict) -> list[str]:
    r = results["resolve"]
    rows = [
        [
            "resolution",
            f"{params['records']:,} identifiers, warm working set {params['working_set']:,}, "
            f"wrk -t1 -c{params['connections']} -d{params['seconds']}s, {params['rounds']} "
            f"interleaved round(s), {params['server']} with {params['workers']} worker(s)",
            f"{results['timings']['resolve']:.0f} s",
        ],
        [
            "registration",
            f"{params['count']:,} identifiers, batches of {params['batch']}, {params['concurrency']} in flight",
            f"{results['timings']['register']:.0f} s",
        ],
        [
            "capture",
            f"{results['capture']['events']:,} events, documents of {params['capture_batch']}, "
            f"{params['concurrency']} in flight",
            f"{results['timings']['capture']:.0f} s",
        ],
        [
            "traceability",
            f"{results['trace']['events']:,} events over {results['trace']['identifiers']:,} "
            f"identifiers, {params['queries']} sequential queries each",
            f"{results['timings']['trace']:.0f} s",
        ],
        [
            "native protocol",
            f"{params['native_records']:,} identifiers, {results['native']['connections']} connections, "
            f"{params['native_seconds']:g} s per run, {params['native_rounds']} interleaved round(s), "
            f"{results['native']['workers']} worker(s)",
            f"{results['timings']['native']:.0f} s",
        ],
    ]
    notes = []
    if r["cold_asked"] > r["cold_keys"]:
        notes = [
            "",
            f"Note: the cold rounds asked {r['cold_asked']:,} keys of {r['cold_keys']:,}; the repeats were "
            "cache hits, so the cold figure is optimistic. Use more `--records`.",
        ]
    return ["## Parameters", "", *_table(["benchmark", "sizes", "took"], rows), *notes, ""]


def _resolution(r: dict) -> list[str]:
    routes = r["routes"]
    rows = [
        [
            ROUTES[label],
            f"{routes[label]['rps']:,.0f}",
            f"{routes[label]['p50']:.2f}",
            f"{routes[label]['p99']:.2f}",
            str(routes[label]["non2xx"]),
            " / ".join(f"{run['rps']:,.0f}" for run in routes[label]["runs"]),
        ]
        for label in ROUTES
    ]
    non2xx = sum(route["non2xx"] for route in routes.values())
    errors = "; ".join(route["errors"] for route in routes.values() if route["errors"])
    warm_ratio, cold_ratio = r["ratios"]["warm/const"], r["ratios"]["cold/select"]
    targets = r["targets"]
    return [
        "## Resolution",
        "",
        f"Anonymous `GET /api/handles/{{handle}}` over {r['records']:,} registered steel coils, driven by wrk on "
        f"the same cores; keys in a pseudo-random order without repeats; node and baselines on {r['server']} with "
        f"{r['workers']} worker(s). Each figure is the median of {r['rounds']} interleaved round(s).",
        "",
        *_table(["route", "req/s", "p50 ms", "p99 ms", "non-2xx", "req/s of each round"], rows),
        "",
        f"- warm / const: **{warm_ratio:.2f}×** (target ≥ {targets['warm/const']:.2f}×: "
        f"{_met(warm_ratio >= targets['warm/const'])}); rounds {_rounds(r, 'warm/const')}",
        f"- cold / select: **{cold_ratio:.2f}×** (target ≥ {targets['cold/select']:.2f}×: "
        f"{_met(cold_ratio >= targets['cold/select'])}); rounds {_rounds(r, 'cold/select')}",
        f"- warm p99: **{routes['warm']['p99']:.2f} ms** (target ≤ the constant route's {routes['const']['p99']:.2f} "
        f"ms: {_met(routes['warm']['p99'] <= routes['const']['p99'])})",
        f"- cold p99: **{routes['cold']['p99']:.2f} ms** (target ≤ {targets['cold p99 ms']:.0f} ms: "
        f"{_met(routes['cold']['p99'] <= targets['cold p99 ms'])})",
        f"- non-2xx answers: **{non2xx}** (target 0: {_met(non2xx == 0)})"
        + (f"; socket errors: {errors}" if errors else ""),
        "",
    ]


NATIVE_ROUTES = {  # bench_native label -> what it is
    "udp node": "node, UDP: warm resolutions",
    "udp baseline": "baseline: bare asyncio UDP server, constant datagram",
    "tcp node": "node, TCP: warm resolutions",
    "tcp baseline": "baseline: bare asyncio TCP server, constant message",
}


def _native(r: dict) -> list[str]:
    routes = r["routes"]
    rows = [
        [
            NATIVE_ROUTES[label],
            f"{routes[label]['rps']:,.0f}",
            f"{routes[label]['p50']:.2f}",
            f"{routes[label]['p99']:.2f}",
            str(routes[label]["nonsuccess"]),
            " / ".join(f"{run['rps']:,.0f}" for run in routes[label]["runs"]),
        ]
        for label in NATIVE_ROUTES
    ]
    lines = [
        "## Native Handle protocol",
        "",
        f"RFC 3652 resolution requests over {r['records']:,} identifiers (answers of {r['answer_octets']['udp']} "
        f"octets), {r['connections']} UDP sockets or persistent TCP connections with one request outstanding each "
        f"(`loadtests/native_load.c`), every key resolved before; `secnode serve --workers {r['workers']}` against "
        f"bare asyncio servers with as many workers answering the node's own answer. Each figure is the median of "
        f"{r['rounds']} interleaved round(s).",
        "",
        *_table(["route", "req/s", "p50 ms", "p99 ms", "non-success", "req/s of each round"], rows),
        "",
    ]
    for transport in ("udp", "tcp"):
        ratio, target = r["ratios"][f"{transport} req/s"], r["targets"][f"{transport} req/s"]
        lines.append(
            f"- {transport.upper()} node / baseline requests/s: **{ratio:.1%}** (target ≥ {target:.0%}: "
            f"{_met(ratio >= target)}); p99 {routes[f'{transport} node']['p99']:.2f} ms against "
            f"{routes[f'{transport} baseline']['p99']:.2f} ms"
        )
    return [*lines, ""]


def _rounds(r: dict, ratio: str) -> str:
    return " / ".join(f"{each[ratio]:.2f}×" for each in r.get("round_ratios", []))


def _registration(r: dict) -> list[str]:
    rows = [
        [
            "baseline: asyncpg COPY of the same record and journal rows",
            f"{r['copy_rate']:,.0f}",
            f"{r['copy_seconds']:.2f} (runs {', '.join(f'{s:.2f}' for s in r['copy_runs'])})",
        ],
        ["node: `POST /identityv2/data/batchCreate`", f"{r['api_rate']:,.0f}", f"{r['api_seconds']:.2f}"],
    ]
    return [
        "## Registration",
        "",
        f"{r['count']:,} steel coils (10 template items each) in batches of {r['batch']}, {r['concurrency']} in "
        f"flight, {'with' if r['redis'] else 'without'} Redis; the baseline runs before and after the API run "
        "(median).",
        "",
        *_table(["path", "identifiers/s", "seconds"], rows),
        "",
        f"- batch API / COPY: **{r['ratio']:.1%}** (target ≥ {r['target']:.0%}: {_met(r['ratio'] >= r['target'])})",
        "",
    ]


def _capture(r: dict) -> list[str]:
    rows = [
        [
            "baseline: asyncpg COPY of the same event, item, link and journal rows",
            f"{r['copy_rate']:,.0f}",
            f"{r['copy_seconds']:.2f} (runs {', '.join(f'{s:.2f}' for s in r['copy_runs'])})",
        ],
        ["node: `POST /epcis/capture`", f"{r['api_rate']:,.0f}", f"{r['api_seconds']:.2f}"],
    ]
    return [
        "## Capture",
        "",
        f"{r['events']:,} EPCIS events, half of them transformations (slab into coil) and half observations, in "
        f"documents of {r['batch']}, {r['concurrency']} in flight; the baseline runs before and after the API "
        "run (median).",
        "",
        *_table(["path", "events/s", "seconds"], rows),
        "",
        f"- capture API / COPY: **{r['ratio']:.1%}** (no target set)",
        "",
    ]


def _traceability(r: dict) -> list[str]:
    rows = [[label, f"{row['p50']:.2f}", f"{row['p99']:.2f}"] for label, row in r["rows"].items()]
    worst = r["worst_trace_p99"]
    return [
        "## Traceability",
        "",
        f"{r['events']:,} events over {r['identifiers']:,} identifiers bulk-loaded in the shape of the demo data; "
        f"{r['queries']} sequential queries of each kind through HTTP as the node administrator; "
        f"{r['reachable']:,} identifiers reachable within depth 10. Baselines: the single index look-ups a "
        "query is built from, directly with asyncpg.",
        "",
        *_table(["query", "p50 ms", "p99 ms"], rows),
        "",
        f"- depth-10 trace p99: **{worst:.1f} ms** (target < {r['target_p99_ms']:.0f} ms: "
        f"{_met(worst < r['target_p99_ms'])})",
        "",
    ]


def _scale(scale_output: str | None) -> list[str]:
    """The scale benchmark runs apart (it grows the registry to millions of identifiers, most of an hour): its
    printed output, saved beside the report, is shown as it came."""
    if not scale_output:
        return []
    return [
        "## Scale",
        "",
        "Cost as the registry grows, from the last run of `loadtests/bench_scale.py`, saved as `scale.txt` "
        "beside this report (its first lines give the command and the date):",
        "",
        "```text",
        scale_output.rstrip(),
        "```",
        "",
    ]


def render(results: dict, params: dict, command: str, png_name: str, scale_output: str | None = None) -> str:
    lines = [
        "# Benchmark report",
        "",
        "```sh",
        command,
        "```",
        "",
        "Resolution, registration, capture, traceability and native protocol benchmarks of one run "
        "(`loadtests/report.py`). Each figure stands next to a baseline measured in the same run on the same "
        "machine, since absolute figures drift with other work on a shared machine.",
        "",
        *_machine(results),
        *_parameters(params, results),
        *_resolution(results["resolve"]),
        *_registration(results["register"]),
        *_capture(results["capture"]),
        *_traceability(results["trace"]),
        *_native(results["native"]),
        *_scale(scale_output),
        "## Plot",
        "",
        f"![throughput and latency against their baselines]({png_name})",
        "",
    ]
    return "\n".join(lines)
