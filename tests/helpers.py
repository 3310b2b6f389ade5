"""Shared test helpers: run the pipeline against a sandbox, read the warehouse, compute what the
sandbox says the warehouse must contain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from humanly_pipeline.flatten import parse_timestamp
from humanly_pipeline.planning import NO_RESULTS_STATUSES
from humanly_pipeline.runner import RunSummary, run_pipeline
from humanly_pipeline.sandbox import Faults, Sandbox
from humanly_pipeline.schemas import TABLES

# Small and short so a Dagster run takes seconds; enough interviews for every status to appear.
N_INTERVIEWS = 240
DAYS = 8


@contextmanager
def sandbox(
    interviews: int = N_INTERVIEWS, seed: int = 11, days: int = DAYS, **kwargs: Any
) -> Iterator[Sandbox]:
    kwargs.setdefault("requests_per_hour", 0)
    kwargs.setdefault("requests_per_minute", 0)
    with Sandbox(interviews=interviews, seed=seed, days=days, **kwargs) as sb:
        yield sb


def window(sb: Sandbox, days: int = DAYS) -> tuple[date, date]:
    end = sb.now.date()
    return end - timedelta(days=days), end


def run(sb: Sandbox, warehouse: Path, start: date, end: date, **kwargs: Any) -> RunSummary:
    """One in-process Dagster run against the sandbox (HUMANLY_API_KEY must be set by the test)."""
    kwargs.setdefault("requests_per_hour", 0)
    kwargs.setdefault("requests_per_minute", 0)
    kwargs.setdefault("concurrency", 4)
    summary = run_pipeline(warehouse, start, end, base_url=sb.base_url, **kwargs)
    assert summary.success, summary.error
    return summary


def sandbox_env(sb: Sandbox, warehouse: Path | None = None) -> dict[str, str]:
    """The environment that points the pipeline (CLI or Dagster definitions) at a sandbox with
    no rate limit."""
    env = {
        "HUMANLY_API_KEY": sb.api_key,
        "HUMANLY_BASE_URL": sb.base_url,
        "HUMANLY_REQUESTS_PER_HOUR": "0",
        "HUMANLY_REQUESTS_PER_MINUTE": "0",
    }
    if warehouse is not None:
        env["HUMANLY_WAREHOUSE_DIR"] = str(warehouse)
    return env


def run_args(warehouse: Path, start: date, end: date, *extra: str) -> list[str]:
    """`humanly-pipeline run` arguments for one warehouse and date range."""
    return ["run", "--warehouse", str(warehouse), "--start-date", str(start),
            "--end-date", str(end), *extra]  # fmt: skip


def assert_same_rows(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    assert sorted(got, key=repr) == sorted(want, key=repr)


def read_tables(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of humanly.duckdb as sorted rows (for equality between warehouses)."""
    con = duckdb.connect(str(warehouse / "humanly.duckdb"), read_only=True)
    try:
        return {
            name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
            for name in [*TABLES, "load_errors"]
        }
    finally:
        con.close()


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse / "humanly.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@dataclass
class Expected:
    """What the sandbox says about the interviews created in a date range."""

    status: dict[str, str]
    results: dict[str, dict[str, Any]]  # answered interviews with a results payload

    @property
    def answered(self) -> set[str]:
        return {i for i, s in self.status.items() if s not in NO_RESULTS_STATUSES}


def expected(sb: Sandbox, start: date, end: date) -> Expected:
    status: dict[str, str] = {}
    results: dict[str, dict[str, Any]] = {}
    for item in sb.store.listing():
        created = parse_timestamp(item["createdAt"])
        assert created is not None
        if start <= created.date() <= end:
            status[item["id"]] = item["status"]
            if item["status"] not in NO_RESULTS_STATUSES:
                payload = sb.store.results(item["id"])
                if payload is not None:
                    results[item["id"]] = payload
    return Expected(status, results)


def results_requests(sb: Sandbox) -> int:
    return sum(sb.request_counts().get("results", {}).values())


def listing_requests(sb: Sandbox) -> int:
    return sum(sb.request_counts().get("list_candidate_interviews", {}).values())


def fault_free() -> Faults:
    return Faults()
