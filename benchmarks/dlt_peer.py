"""The peer: dlt's `rest_api` source loading the Gather API into DuckDB, configured as its docs say.

Run as a child process by `bench_peer.py` (so that its peak RSS is its own), from the benchmark
environment `benchmarks/.venv` where dlt is installed. It is what a data engineer would write
instead of humanly_pipeline:

- `candidate_interviews`: the list endpoint with dlt's page-number paginator (`page`, base 1,
  stop at `meta.pagination.totalPages`) and `limit=100`, the maximum the API allows;
- `results`: a dependent resource (transformer) on `candidate-interviews/{id}/results`, resolved
  from the list's `id`, with `"parallelized": True` so that each parent item's fetch runs in dlt's
  extract thread pool (`[extract] workers`, set here from --workers); a 404 response action
  `"ignore"`, because unanswered interviews (`invite_sent`, `expired`) have no results and would
  otherwise fail the run;
- destination DuckDB, everything else at dlt's defaults (normalize, load, nesting: lists become
  child tables `results__transcriptions`, `results__scores`, `results__ratings`,
  `results__score_card__results`; the score card object is flattened into `results`).

Prints one JSON object on stdout: row counts per table, and the extract/normalize/load split.

    benchmarks/.venv/bin/python benchmarks/dlt_peer.py --base-url URL --workdir DIR --workers 8
    (the API key is read from HUMANLY_API_KEY)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

TABLES = (
    "candidate_interviews",
    "results",
    "results__transcriptions",
    "results__scores",
    "results__ratings",
    "results__score_card__results",
)


def rest_api_config(base_url: str, api_key: str) -> dict[str, Any]:
    """The rest_api source configuration (a plain dict, as in dlt's docs)."""
    return {
        "client": {
            "base_url": f"{base_url}/qsi/gather/",
            "auth": {
                "type": "api_key",
                "name": "x-api-key",
                "api_key": api_key,
                "location": "header",
            },
        },
        "resources": [
            {
                "name": "candidate_interviews",
                "endpoint": {
                    "path": "candidate-interviews",
                    "params": {"limit": 100},
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "base_page": 1,
                        "total_path": "meta.pagination.totalPages",
                    },
                },
            },
            {
                "name": "results",
                "parallelized": True,
                "endpoint": {
                    "path": "candidate-interviews/{resources.candidate_interviews.id}/results",
                    "data_selector": "data",
                    "paginator": {"type": "single_page"},
                    "response_actions": [{"status_code": 404, "action": "ignore"}],
                },
            },
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    # dlt reads its configuration from the environment (same keys as .dlt/config.toml).
    os.environ["EXTRACT__WORKERS"] = str(args.workers)
    # max_parallel_items caps the deferred items in flight; keep it >= workers (default 20).
    os.environ["EXTRACT__MAX_PARALLEL_ITEMS"] = str(max(20, 2 * args.workers))
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")

    import dlt
    from dlt.sources.rest_api import rest_api_source

    api_key = os.environ["HUMANLY_API_KEY"]
    args.workdir.mkdir(parents=True, exist_ok=True)
    db_path = args.workdir / "peer.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="gather_peer",
        pipelines_dir=str(args.workdir / "pipelines"),
        destination=dlt.destinations.duckdb(str(db_path)),
        dataset_name="gather",
        progress=None,
    )
    source = rest_api_source(rest_api_config(args.base_url, api_key))
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    pipeline.extract(source)
    stages["extract_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    pipeline.normalize()
    stages["normalize_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    pipeline.load()
    stages["load_s"] = time.perf_counter() - t2

    import duckdb

    rows: dict[str, int] = {}
    scorecards = 0
    with duckdb.connect(str(db_path), read_only=True) as con:
        present = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gather'"
            ).fetchall()
        }
        for table in TABLES:
            rows[table] = (
                con.execute(f"SELECT count(*) FROM gather.{table}").fetchone()[0]  # type: ignore[index]
                if table in present
                else 0
            )
        if "results" in present:
            scorecards = con.execute(
                "SELECT count(*) FROM gather.results WHERE score_card__id IS NOT NULL"
            ).fetchone()[0]  # type: ignore[index]
    print(
        json.dumps(
            {
                "rows": rows,
                "scorecards": scorecards,
                "stages": stages,
                "dlt_version": dlt.__version__,
                "workers": args.workers,
            }
        )
    )


if __name__ == "__main__":
    main()
