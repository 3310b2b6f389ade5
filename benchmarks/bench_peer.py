"""B1 — full load, peer vs us: dlt's rest_api source and humanly_pipeline on one sandbox.

One sandbox (seed 7, 7000 interviews of which 5015 answered, 50 ms latency, no rate limit) serves
both sides, run alternately (A B, B A, A B, ...) each in its own child process with a fresh
destination: dlt's `rest_api` (dlt_peer.py: page-number paginator, parallelized results
transformer, 404 ignored, into DuckDB) and `humanly-pipeline run --full-refresh`. Reports per
side the median wall time, requests by endpoint (the sandbox's own counts), peak RSS, and whether
its DuckDB holds every interview and every child row of the sandbox's ground truth.

Both sides get the same request parallelism: HUMANLY_CONCURRENCY=C for us, dlt's
`[extract] workers=C` for the parallelized transformer (C = 8, our default, unless --workers).

    benchmarks/.venv/bin/python benchmarks/run.py --only B1
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from common import (
    OUR_TABLES,
    PEER_TABLES,
    check,
    ground_truth,
    our_rows,
    request_totals,
    run_ours,
    run_peer,
)

from humanly_pipeline.sandbox import Faults, Sandbox

SEED = 7


def run(
    *, interviews: int, repeats: int, workers: int, latency_ms: float = 50.0, days: float = 60.0
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with Sandbox(
        interviews=interviews,
        seed=SEED,
        days=days,
        requests_per_hour=0,
        requests_per_minute=0,
        faults=Faults(latency_ms=latency_ms),
    ) as sb:
        truth = ground_truth(sb)
        order = []
        for i in range(repeats):
            order += ["ours", "dlt"] if i % 2 == 0 else ["dlt", "ours"]
        for n, side in enumerate(order, start=1):
            tmp = Path(tempfile.mkdtemp(prefix=f"b1-{side}-"))
            sb.reset_counts()
            try:
                if side == "ours":
                    child = run_ours(sb, tmp, full_refresh=True, concurrency=workers)
                    rows = our_rows(tmp)
                    verdict = check(rows, OUR_TABLES, truth)
                    extra: dict[str, Any] = {}
                else:
                    child, out = run_peer(sb, tmp, workers)
                    rows = {**out["rows"], "scorecards": out["scorecards"]}
                    verdict = check(rows, PEER_TABLES, truth)
                    extra = {"stages": out["stages"]}
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            record = {
                "side": side,
                "n": n,
                "wall_s": round(child.wall_s, 2),
                "peak_rss_mib": round(child.peak_rss_mib, 1),
                "requests": request_totals(sb.request_counts()),
                **verdict,
                **extra,
            }
            runs.append(record)
            print(
                f"  B1 run {n}/{len(order)} {side}: {record['wall_s']} s, "
                f"{record['requests']['total']} requests, {record['peak_rss_mib']} MiB, "
                f"complete={record['complete']}",
                flush=True,
            )

    def side(name: str) -> dict[str, Any]:
        mine = [r for r in runs if r["side"] == name]
        return {
            "wall_s_median": statistics.median(r["wall_s"] for r in mine),
            "wall_s_all": [r["wall_s"] for r in mine],
            "requests_median": statistics.median(r["requests"]["total"] for r in mine),
            "results_requests_median": statistics.median(r["requests"]["results"] for r in mine),
            "results_404_median": statistics.median(r["requests"]["results_404"] for r in mine),
            "listing_requests_median": statistics.median(r["requests"]["listing"] for r in mine),
            "peak_rss_mib_max": max(r["peak_rss_mib"] for r in mine),
            "peak_rss_mib_median": statistics.median(r["peak_rss_mib"] for r in mine),
            "all_complete": all(r["complete"] for r in mine),
        }

    ours, peer = side("ours"), side("dlt")
    ratios = {
        "wall": ours["wall_s_median"] / peer["wall_s_median"],
        "requests": ours["requests_median"] / peer["requests_median"],
        "peak_rss": ours["peak_rss_mib_median"] / peer["peak_rss_mib_median"],
    }
    return {
        "config": {
            "interviews": interviews,
            "seed": SEED,
            "days": days,
            "latency_ms": latency_ms,
            "repeats": repeats,
            "workers": workers,
            "dlt": "rest_api; page_number paginator limit=100; results transformer "
            "parallelized=True, [extract] workers=C, max_parallel_items=max(20,2C); "
            "404 -> ignore; duckdb destination; defaults otherwise",
        },
        "truth": truth,
        "ours": ours,
        "dlt": peer,
        "ratios": ratios,
        "goal": {
            "wall_ratio_max": 1 / 3,
            "requests_ratio_max": 1.0,
            "met": ratios["wall"] <= 1 / 3 and ratios["requests"] <= 1.0 and ours["all_complete"],
        },
        "runs": runs,
    }


def table(result: dict[str, Any]) -> str:
    """Markdown table of one B1 result."""
    lines = [
        "| side | wall s (median) | requests (listing + results) | results 404 | peak RSS MiB "
        "| complete |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("ours", "humanly_pipeline --full-refresh"), ("dlt", "dlt rest_api")):
        s = result[name]
        lines.append(
            f"| {label} | {s['wall_s_median']:.1f} ({', '.join(map(str, s['wall_s_all']))}) | "
            f"{s['requests_median']:.0f} ({s['listing_requests_median']:.0f} + "
            f"{s['results_requests_median']:.0f}) | {s['results_404_median']:.0f} | "
            f"{s['peak_rss_mib_median']:.0f} | {s['all_complete']} |"
        )
    r = result["ratios"]
    lines.append(
        f"| **ratio ours/dlt** | **{r['wall']:.2f}** | **{r['requests']:.2f}** | | "
        f"**{r['peak_rss']:.2f}** | |"
    )
    return "\n".join(lines)
