"""B4 — scale: peak RSS of a 100k-interview full refresh, and flatten against the JSON parse floor.

1. `humanly-pipeline run --full-refresh` over a 100k-interview sandbox (no latency, no limits)
   in a child process: wall time, requests, peak RSS (wait4 `ru_maxrss`).
2. On the payloads that run landed under `raw/` (the sandbox's real bodies, not generated ones),
   per created date exactly as the flatten step reads them (ledger index rows + landed bodies):
   time `orjson.loads` over the day's bodies (the floor: nothing can flatten JSON without
   parsing it) and `flatten()` over the same rows and bodies (Arrow tables included), best of
   R interleaved repeats per date, summed over dates. Reads from disk are not timed.

    benchmarks/.venv/bin/python benchmarks/run.py --only B4
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from common import date_range, request_totals, run_ours

from humanly_pipeline.flatten import RawResult, flatten
from humanly_pipeline.landing import RawStore
from humanly_pipeline.layout import WarehouseLayout
from humanly_pipeline.partitions import dates_between
from humanly_pipeline.sandbox import Sandbox
from humanly_pipeline.state import Ledger

SEED = 7
GIB = 1024.0


def flatten_vs_parse(warehouse: Path, start: Any, end: Any, repeat: int) -> dict[str, Any]:
    layout = WarehouseLayout(warehouse)
    raw = RawStore(layout.raw_dir)
    floor = flat = 0.0
    payloads = nbytes = 0
    rows_out: dict[str, int] = {}
    with Ledger(layout.ledger_path) as ledger:
        for day in dates_between(start, end):
            rows = ledger.index_rows(day, day)
            records = ledger.fetch_records([r.candidate_interview_id for r in rows])
            raws = {
                rec.candidate_interview_id: RawResult(
                    rec.candidate_interview_id, raw.read(rec.raw_ref), rec.fetched_at, rec.raw_ref
                )
                for rec in records.values()
                if rec.raw_ref is not None
            }
            bodies = [r.body for r in raws.values()]
            payloads += len(bodies)
            nbytes += sum(map(len, bodies))
            best_floor = best_flat = float("inf")
            for attempt in range(repeat):
                gc.collect()
                t0 = time.perf_counter()
                for body in bodies:
                    orjson.loads(body)
                best_floor = min(best_floor, time.perf_counter() - t0)
                gc.collect()
                t0 = time.perf_counter()
                out = flatten(rows, raws)
                best_flat = min(best_flat, time.perf_counter() - t0)
                if attempt == 0:
                    for name, table in out.tables.items():
                        rows_out[name] = rows_out.get(name, 0) + table.num_rows
                del out
            floor += best_floor
            flat += best_flat
    mb = nbytes / 1e6
    return {
        "payloads": payloads,
        "mb": round(mb, 1),
        "floor_s": round(floor, 3),
        "flatten_s": round(flat, 3),
        "floor_payloads_per_s": payloads / floor,
        "flatten_payloads_per_s": payloads / flat,
        "floor_mb_per_s": mb / floor,
        "flatten_mb_per_s": mb / flat,
        "ratio": flat / floor,
        "rows": rows_out,
    }


def run(
    *, interviews: int, repeat: int = 2, concurrency: int = 8, days: float = 60.0
) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="b4-"))
    try:
        with Sandbox(
            interviews=interviews, seed=SEED, days=days, requests_per_hour=0, requests_per_minute=0
        ) as sb:
            start, end = date_range(sb)
            child = run_ours(sb, tmp, full_refresh=True, concurrency=concurrency)
            counts = request_totals(sb.request_counts())
        size = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
        print(
            f"  B4 full refresh: {child.wall_s:.0f} s, {child.peak_rss_mib:.0f} MiB peak RSS; "
            "timing flatten vs orjson.loads on the landed bodies",
            flush=True,
        )
        parse = flatten_vs_parse(tmp, start, end, repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rss_ok = child.peak_rss_mib < GIB
    return {
        "config": {
            "interviews": interviews,
            "seed": SEED,
            "days": days,
            "latency_ms": 0,
            "limits": "none",
            "concurrency": concurrency,
            "repeat": repeat,
        },
        "wall_s": round(child.wall_s, 1),
        "peak_rss_mib": round(child.peak_rss_mib, 1),
        "requests": counts,
        "warehouse_mib": round(size / 2**20, 1),
        "flatten": parse,
        "goal": {
            "peak_rss_mib_max": GIB,
            "flatten_ratio_max": 3.0,
            "met": rss_ok and parse["ratio"] <= 3.0,
        },
    }


def table(result: dict[str, Any]) -> str:
    r, f = result, result["flatten"]
    return "\n".join(
        [
            "| interviews | requests | wall s | **peak RSS MiB** | warehouse MiB | payloads (MB) "
            "| orjson.loads payloads/s (MB/s) | flatten payloads/s (MB/s) | **flatten/parse** |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {r['config']['interviews']} | {r['requests']['total']} | {r['wall_s']} "
            f"| **{r['peak_rss_mib']:.0f}** | {r['warehouse_mib']} | {f['payloads']} ({f['mb']}) "
            f"| {f['floor_payloads_per_s']:,.0f} ({f['floor_mb_per_s']:,.0f}) "
            f"| {f['flatten_payloads_per_s']:,.0f} ({f['flatten_mb_per_s']:,.0f}) "
            f"| **{f['ratio']:.2f}x** |",
        ]
    )
