"""Shared helpers of the benchmark suite (run.py): children with peak RSS, ground truth, counts.

Every measured side runs in a child process started here, and its peak RSS is read from
`os.wait4` (`ru_maxrss`, which on Linux also covers the child's own waited-for children). The
sandbox stays in the parent process, so the children compete with it for the two CPUs exactly as
a client competes with a real server's latency: both sides see the same server.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CLI = Path(sys.executable).with_name("humanly-pipeline")
PEER = HERE / "dlt_peer.py"

# Our tables in humanly.duckdb, and the ground-truth key each is checked against.
OUR_TABLES = {
    "candidate_interviews": "interviews",
    "summaries": "answered",
    "transcriptions": "transcriptions",
    "scores": "scores",
    "ratings": "ratings",
    "scorecards": "scorecards",
    "scorecard_results": "scorecard_results",
}
# dlt's tables in its DuckDB dataset, same mapping ("scorecards" is a count of results rows).
PEER_TABLES = {
    "candidate_interviews": "interviews",
    "results": "answered",
    "results__transcriptions": "transcriptions",
    "results__scores": "scores",
    "results__ratings": "ratings",
    "scorecards": "scorecards",
    "results__score_card__results": "scorecard_results",
}


def machine() -> dict[str, Any]:
    """Where and when the figures were taken."""
    import dlt
    import orjson
    import pyarrow

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=HERE, capture_output=True, text=True, timeout=10
            )
        except OSError:
            return ""
        return done.stdout.strip()

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "package_changes_uncommitted": bool(
            git("status", "--porcelain", "--", "../humanly_pipeline")
        ),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "dlt": dlt.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "orjson": orjson.__version__,
    }


@dataclass
class Child:
    """One finished child process."""

    rc: int
    wall_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str


def run_child(cmd: list[str], env: dict[str, str]) -> Child:
    """Run cmd to completion; wall time and peak RSS (ru_maxrss from wait4) of that child."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(
            rc=proc.returncode,
            wall_s=wall,
            peak_rss_mib=usage.ru_maxrss / 1024,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def pipeline_env(sb: Any, per_hour: int = 0, per_minute: int = 0, concurrency: int = 8) -> dict:
    return {
        **os.environ,
        "HUMANLY_API_KEY": sb.api_key,
        "HUMANLY_BASE_URL": sb.base_url,
        "HUMANLY_REQUESTS_PER_HOUR": str(per_hour),
        "HUMANLY_REQUESTS_PER_MINUTE": str(per_minute),
        "HUMANLY_CONCURRENCY": str(concurrency),
    }


def date_range(sb: Any) -> tuple[date, date]:
    """Created dates covering every interview of the sandbox (from its first day to today)."""
    first = min(item["createdAt"] for item in sb.store.listing())
    start = datetime.fromisoformat(first.replace("Z", "+00:00")).date() - timedelta(days=1)
    return start, sb.now.date()


def run_ours(
    sb: Any,
    warehouse: Path,
    *,
    full_refresh: bool,
    per_hour: int = 0,
    per_minute: int = 0,
    concurrency: int = 8,
) -> Child:
    """`humanly-pipeline run` over the sandbox's whole date range, in a child process."""
    start, end = date_range(sb)
    cmd = [
        str(CLI),
        "run",
        "--warehouse",
        str(warehouse),
        "--start-date",
        str(start),
        "--end-date",
        str(end),
        "--quiet",
    ]
    if full_refresh:
        cmd.append("--full-refresh")
    child = run_child(cmd, pipeline_env(sb, per_hour, per_minute, concurrency))
    if child.rc != 0:
        raise RuntimeError(f"humanly-pipeline run failed ({child.rc}): {child.stderr[-2000:]}")
    return child


def run_peer(sb: Any, workdir: Path, workers: int) -> tuple[Child, dict[str, Any]]:
    """dlt's rest_api source into DuckDB (dlt_peer.py), in a child process."""
    import json

    cmd = [
        sys.executable,
        str(PEER),
        "--base-url",
        sb.base_url,
        "--workdir",
        str(workdir),
        "--workers",
        str(workers),
    ]
    child = run_child(cmd, {**os.environ, "HUMANLY_API_KEY": sb.api_key})
    if child.rc != 0:
        raise RuntimeError(f"dlt peer failed ({child.rc}): {child.stderr[-2000:]}")
    return child, json.loads(child.stdout.strip().splitlines()[-1])


def ground_truth(sb: Any) -> dict[str, int]:
    """What a complete load must contain, from the sandbox's own store."""
    truth = dict.fromkeys(
        (
            "interviews",
            "answered",
            "transcriptions",
            "scores",
            "ratings",
            "scorecards",
            "scorecard_results",
        ),
        0,
    )
    for item in sb.store.listing():
        truth["interviews"] += 1
        data = sb.store.results(item["id"])
        if data is None:
            continue
        truth["answered"] += 1
        truth["transcriptions"] += len(data.get("transcriptions") or [])
        truth["scores"] += len(data.get("scores") or [])
        truth["ratings"] += len(data.get("ratings") or [])
        card = data.get("scoreCard")
        if card:
            truth["scorecards"] += 1
            truth["scorecard_results"] += len(card.get("results") or [])
    return truth


def our_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse / "humanly.duckdb"), read_only=True) as con:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in OUR_TABLES
        }


def check(rows: dict[str, int], mapping: dict[str, str], truth: dict[str, int]) -> dict[str, Any]:
    """Per-table (got, expected) and whether everything matched."""
    detail = {t: [rows.get(t, 0), truth[key]] for t, key in mapping.items()}
    return {"complete": all(got == want for got, want in detail.values()), "tables": detail}


def request_totals(counts: dict[str, dict[int, int]]) -> dict[str, Any]:
    """Sandbox counts reduced to listing / results / 404 / 429 / total."""
    listing = counts.get("list_candidate_interviews", {})
    results = counts.get("results", {})
    every = [c for per_status in counts.values() for c in per_status.items()]
    return {
        "listing": sum(listing.values()),
        "results": sum(results.values()),
        "results_404": results.get(404, 0),
        "rate_limited_429": sum(n for status, n in every if status == 429),
        "total": sum(n for _, n in every),
    }


def pages(total: int, limit: int = 100) -> int:
    return max(1, math.ceil(total / limit))


def fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"
