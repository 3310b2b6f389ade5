"""B2 — incremental run: requests humanly_pipeline spends after a day passes, against the minimum.

A first (non-full-refresh) run loads the sandbox; the sandbox's virtual clock then moves one day
(new interviews arrive, statuses move on, summaries finish, score cards appear). Before the second
run, the minimum it must spend is computed from the sandbox's ground truth and the pipeline's own
ledger (`state/ledger.sqlite`, table `fetches`):

- listing: ceil(total / 100) pages (the API cannot filter by date, one full pass per run);
- results: every answered interview (status not `invite_sent` / `expired`) that was never
  fetched, whose listed status differs from `status_at_fetch`, or whose last payload was pending
  with `next_poll_at` <= the server's new clock.

Also reported, for information: the oracle count of interviews whose results body actually
changed over the day (what a client that could see the server's state would fetch). A pending
re-poll that finds nothing new is the price of the API having no `updatedAt` in the list.

    benchmarks/.venv/bin/python benchmarks/run.py --only B2
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from common import pages, request_totals, run_ours

from humanly_pipeline.sandbox import Sandbox

SEED = 7
NO_RESULTS = {"invite_sent", "expired"}


def _results_snapshot(sb: Sandbox) -> dict[str, bytes]:
    snap = {}
    for item in sb.store.listing():
        data = sb.store.results(item["id"])
        if data is not None:
            snap[item["id"]] = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    return snap


def run(*, interviews: int, days: float = 60.0) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="b2-"))
    try:
        # The virtual clock starts two days back so that, advanced by a day, it is still not in
        # the future for the CLI (which refuses end dates after today's real UTC date).
        start_clock = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=2)
        with Sandbox(
            interviews=interviews,
            seed=SEED,
            days=days,
            now=start_clock,
            requests_per_hour=0,
            requests_per_minute=0,
        ) as sb:
            first = run_ours(sb, tmp, full_refresh=False)
            first_counts = request_totals(sb.request_counts())
            before = _results_snapshot(sb)
            sb.advance(1)
            now = sb.now
            listing = sb.store.listing()
            after = _results_snapshot(sb)

            with sqlite3.connect(tmp / "state" / "ledger.sqlite") as db:
                ledger = {
                    row[0]: (row[1], bool(row[2]), row[3])
                    for row in db.execute(
                        "SELECT candidate_interview_id, status_at_fetch, pending, next_poll_at "
                        "FROM fetches"
                    )
                }
            reasons = {"new": 0, "status_changed": 0, "pending_due": 0}
            for item in listing:
                if item["status"] in NO_RESULTS:
                    continue
                last = ledger.get(item["id"])
                if last is None:
                    reasons["new"] += 1
                elif last[0] != item["status"]:
                    reasons["status_changed"] += 1
                elif last[1] and last[2] is not None and datetime.fromisoformat(last[2]) <= now:
                    reasons["pending_due"] += 1
            minimum_results = sum(reasons.values())
            minimum_listing = pages(len(listing))
            changed = sum(1 for i, body in after.items() if before.get(i) != body)

            sb.reset_counts()
            second = run_ours(sb, tmp, full_refresh=False)
            spent = request_totals(sb.request_counts())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    minimum = minimum_listing + minimum_results
    return {
        "config": {"interviews": interviews, "seed": SEED, "days": days, "advance_days": 1},
        "first_run": {"wall_s": round(first.wall_s, 2), "requests": first_counts},
        "second_run": {"wall_s": round(second.wall_s, 2), "requests": spent},
        "minimum": {
            "listing": minimum_listing,
            "results": minimum_results,
            "total": minimum,
            "results_by_reason": reasons,
        },
        "oracle_results_changed": changed,
        "ratio": spent["total"] / minimum,
        "goal": {"met": spent["total"] == minimum},
    }


def table(result: dict[str, Any]) -> str:
    m, s = result["minimum"], result["second_run"]["requests"]
    r = m["results_by_reason"]
    return "\n".join(
        [
            "| | listing | results | total |",
            "|---|---|---|---|",
            f"| minimum (new {r['new']}, status changed {r['status_changed']}, pending due "
            f"{r['pending_due']}) | {m['listing']} | {m['results']} | {m['total']} |",
            f"| humanly_pipeline second run | {s['listing']} | {s['results']} | {s['total']} |",
            f"| **ratio spent/minimum** | | | **{result['ratio']:.3f}** |",
            f"| (oracle: results bodies that really changed over the day) | | "
            f"{result['oracle_results_changed']} | |",
        ]
    )
