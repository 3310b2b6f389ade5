"""Benchmark: peak memory and wall time of a full refresh against the sandbox, as N grows.

The sandbox runs in this process (no rate limit, no latency); the pipeline runs as the real CLI
(`humanly-pipeline run --full-refresh`) in a child process, whose peak RSS is read from wait4().
Usage: .venv/bin/python benchmarks/bench_pipeline.py [--n 10000 25000 50000] [--days 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

import duckdb
from common import run_ours

from humanly_pipeline.sandbox import Sandbox


def one(n: int, days: int, concurrency: int) -> dict[str, object]:
    with Sandbox(interviews=n, seed=5, days=days, requests_per_hour=0, requests_per_minute=0) as sb:
        warehouse = Path(tempfile.mkdtemp(prefix=f"bench-{n}-"))
        child = run_ours(sb, warehouse, full_refresh=True, concurrency=concurrency)
        counts = sb.request_counts()
    con = duckdb.connect(str(warehouse / "humanly.duckdb"), read_only=True)
    rows = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
        for t in ("candidate_interviews", "transcriptions", "scorecard_results")
    }
    con.close()
    size = sum(f.stat().st_size for f in warehouse.rglob("*") if f.is_file())
    return {
        "n": n,
        "wall_s": round(child.wall_s, 1),
        "peak_rss_mib": round(child.peak_rss_mib, 1),
        "results_requests": sum(counts.get("results", {}).values()),
        "listing_requests": sum(counts.get("list_candidate_interviews", {}).values()),
        "rows": rows,
        "warehouse_mib": round(size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 25_000, 50_000])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/pipeline.json"))
    args = parser.parse_args()
    results = []
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs")
    print(
        "| N | wall s | peak RSS MiB | results req | listing req | interviews "
        "| transcriptions | warehouse MiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in args.n:
        r = one(n, args.days, args.concurrency)
        results.append(r)
        rows = r["rows"]
        assert isinstance(rows, dict)
        print(
            f"| {n} | {r['wall_s']} | {r['peak_rss_mib']} | {r['results_requests']} | "
            f"{r['listing_requests']} | {rows['candidate_interviews']} | "
            f"{rows['transcriptions']} | {r['warehouse_mib']} |",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
