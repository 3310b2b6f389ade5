"""The fault matrix: one pipeline run per sandbox fault knob, compared with the sandbox's truth.

For each case: requests spent (and how many were retries or 429s), interviews expected / loaded /
missing / duplicated, and payloads quarantined. Same seed and size as the trust test suite.
Usage: .venv/bin/python benchmarks/fault_matrix.py [--interviews 240]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanly_pipeline.runner import run_pipeline
from humanly_pipeline.sandbox import Faults
from tests.helpers import expected, query, sandbox, window
from tests.test_trust import FAULTS


def one(name: str, faults: Faults, interviews: int) -> dict[str, object]:
    with sandbox(interviews=interviews, faults=faults) as sb:
        os.environ["HUMANLY_API_KEY"] = sb.api_key
        start, end = window(sb)
        listable = set(expected(sb, start, end).status)
        warehouse = Path(tempfile.mkdtemp(prefix="faults-"))
        began = time.perf_counter()
        summary = run_pipeline(
            warehouse, start, end, base_url=sb.base_url, requests_per_hour=0,
            requests_per_minute=0, concurrency=4,
        )  # fmt: skip
        seconds = time.perf_counter() - began
        exp = expected(sb, start, end)
    ids = [
        r[0] for r in query(warehouse, "SELECT candidate_interview_id FROM candidate_interviews")
    ]
    quarantined = query(warehouse, "SELECT count(*) FROM load_errors")[0][0]
    fetch_stats = summary.fetch.get("requests", {})
    index_stats = summary.index.get("requests", {})
    return {
        "fault": name,
        "success": summary.success,
        "seconds": round(seconds, 1),
        "requests": summary.requests_total,
        "retries": int(fetch_stats.get("retries", 0)) + int(index_stats.get("retries", 0)),
        "429s": summary.rate_limited,
        "listed_at_start": len(listable),
        "in_sandbox_after": len(exp.status),
        "loaded": len(set(ids)),
        "missing": len(listable - set(ids)),
        "duplicated": len(ids) - len(set(ids)),
        "quarantined": quarantined,
        "relisted": bool(summary.index.get("relisted")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=240)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/fault_matrix.json"))
    args = parser.parse_args()
    rows = [{"fault": "none (clean)", **one("clean", Faults(), args.interviews)}]
    rows[0]["fault"] = "none (clean)"
    rows += [one(name, faults, args.interviews) for name, faults in FAULTS.items()]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
