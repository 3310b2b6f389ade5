"""B3 — budget use: how much of the API's rate limit a budget-bound run actually uses.

The sandbox enforces a rolling per-minute limit (600/min, no hourly limit, 50 ms latency) and the
pipeline is configured with the same limits (HUMANLY_REQUESTS_PER_MINUTE=600, PER_HOUR=0). A full
refresh of ~2900 interviews (~2080 answered + 29 listing pages, ~2100 requests) is 3.5 windows of
budget. The moment of every request that spent budget is recorded on the server side (a wrapper
around the sandbox limiter's `try_spend`, in this process), so that

- achieved/allowed: under a rolling limit of L per 60 s, request i + L cannot be sent before
  request i + 60 s, so the (k L + 1)-th request comes at best k minutes after the first; the
  ratio is k minutes over the time it actually took (k = the whole windows the run spans, 3 here);
- the largest count in any 60 s sliding window shows how close to (or over) the limit it ran;
- 429s are the sandbox's own counts; the send times are kept in the JSON (`stamps_s`).

A rolling window lets a fresh client spend the whole minute's budget at once: the first L
requests go out in a few seconds (latency x concurrency bound), then nothing can be sent until
the first of them leaves the window; every later window repeats that burst-then-wait shape.

    benchmarks/.venv/bin/python benchmarks/run.py --only B3
"""

from __future__ import annotations

import bisect
import math
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import request_totals, run_ours

from humanly_pipeline.sandbox import Faults, Sandbox

SEED = 7


def run(
    *,
    interviews: int,
    per_minute: int,
    latency_ms: float = 50.0,
    days: float = 60.0,
    concurrency: int = 8,
) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="b3-"))
    stamps: list[float] = []
    lock = threading.Lock()
    try:
        with Sandbox(
            interviews=interviews,
            seed=SEED,
            days=days,
            requests_per_hour=0,
            requests_per_minute=per_minute,
            faults=Faults(latency_ms=latency_ms),
        ) as sb:
            spend = sb.limiter.try_spend

            def recording_spend() -> tuple[float | None, dict[str, str]]:
                reset_at, headers = spend()
                if reset_at is None:
                    with lock:
                        stamps.append(time.time())
                return reset_at, headers

            sb.limiter.try_spend = recording_spend  # type: ignore[method-assign]
            child = run_ours(
                sb, tmp, full_refresh=True, per_minute=per_minute, concurrency=concurrency
            )
            counts = request_totals(sb.request_counts())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    stamps.sort()
    return {
        "config": {
            "interviews": interviews,
            "seed": SEED,
            "per_minute": per_minute,
            "per_hour": 0,
            "latency_ms": latency_ms,
            "concurrency": concurrency,
        },
        "wall_s": round(child.wall_s, 1),
        "requests": counts,
        **budget_figures(stamps, per_minute, counts["rate_limited_429"]),
        "stamps_s": [round(t - stamps[0], 3) for t in stamps],
    }


def budget_figures(stamps: list[float], limit: int, rate_limited: int) -> dict[str, Any]:
    """Achieved against allowed rate from the sorted send times of the requests that spent.

    With a rolling window of `limit` per 60 s, request i + limit cannot be sent before request i
    plus 60 s, so the (k * limit + 1)-th request comes at best k * 60 s after the first. The
    achieved/allowed ratio is k * 60 s over the time it actually took, for the largest whole k.
    """
    t0, span = stamps[0], stamps[-1] - stamps[0]
    windows = (len(stamps) - 1) // limit
    took = stamps[windows * limit] - t0 if windows else span
    ratio = (windows * 60.0 / took) if windows and took > 0 else float("nan")
    per_minute_counts = [
        bisect.bisect_left(stamps, t0 + 60 * (m + 1)) - bisect.bisect_left(stamps, t0 + 60 * m)
        for m in range(math.floor(span / 60) + 1)
    ]
    return {
        "budget_bound_s": round(span, 1),
        "whole_windows": windows,
        "whole_windows_took_s": round(took, 2),
        "allowed_rate_per_s": limit / 60,
        "achieved_rate_per_s": windows * limit / took if windows and took > 0 else float("nan"),
        "ratio": ratio,
        "max_in_any_60s": max(bisect.bisect_left(stamps, s + 60) - i for i, s in enumerate(stamps)),
        "first_window_spent_in_s": round(stamps[min(limit, len(stamps)) - 1] - t0, 2),
        "spent_per_minute": per_minute_counts,
        "goal": {"ratio_min": 0.95, "met": ratio >= 0.95 and rate_limited == 0 and windows >= 2},
    }


def table(result: dict[str, Any]) -> str:
    r = result
    return "\n".join(
        [
            "| requests (listing + results) | 429s | budget-bound s | whole windows (took s) "
            "| achieved req/s | allowed req/s | **achieved/allowed** | max in any 60 s "
            "| first window's budget spent in s "
            "| spent per minute |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {r['requests']['total']} ({r['requests']['listing']} + {r['requests']['results']}) "
            f"| {r['requests']['rate_limited_429']} | {r['budget_bound_s']} "
            f"| {r['whole_windows']} ({r['whole_windows_took_s']}) "
            f"| {r['achieved_rate_per_s']:.2f} | {r['allowed_rate_per_s']:.2f} "
            f"| **{r['ratio']:.1%}** | {r['max_in_any_60s']} | {r['first_window_spent_in_s']} "
            f"| {', '.join(map(str, r['spent_per_minute']))} |",
        ]
    )
