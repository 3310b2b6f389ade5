"""Asset checks: what analysts rely on, verified on the Parquet tables before they are published.

Blocking (the DuckDB publish does not happen, the old database stays in place): duplicate
interview ids, and child rows whose interview is unknown — both would mean this pipeline broke
the data. Warnings (reported, never fatal): values outside the known enums, scores outside
`[0, max_score]`, a listed total that disagrees with the stored interviews, and runs where some
results could not be fetched or read — those describe the API's data, which analysts should
still get.
"""

from collections.abc import Iterator
from typing import Any

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from humanly_pipeline.layout import WarehouseLayout
from humanly_pipeline.parquet import attach_tables
from humanly_pipeline.resources import WarehouseResource
from humanly_pipeline.schemas import EVALUATION_TYPES, KNOWN_STATUSES, SUMMARY_STATUSES, TABLES
from humanly_pipeline.state import Ledger

CHILD_TABLES = [name for name in TABLES if name != "candidate_interviews"]

# (table, column, known values) checked for unknown values.
ENUMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("candidate_interviews", "status", KNOWN_STATUSES),
    ("summaries", "summary_status", SUMMARY_STATUSES),
    ("scorecards", "evaluation_type", EVALUATION_TYPES),
]
# (table, score column, maximum column)
SCORES: list[tuple[str, str, str]] = [
    ("scores", "score", "max_score"),
    ("scorecards", "overall_score", "max_score"),
    ("scorecard_results", "score", "max_score"),
]


def duplicate_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT candidate_interview_id FROM candidate_interviews "
        "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 20"
    ).fetchall()
    return [r[0] for r in rows]


def orphan_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(
        f"SELECT count(*) FROM {table} c WHERE NOT EXISTS (SELECT 1 FROM candidate_interviews p "
        "WHERE p.candidate_interview_id = c.candidate_interview_id)"
    ).fetchone()
    return int(row[0]) if row else 0


def unknown_values(
    con: duckdb.DuckDBPyConnection, table: str, column: str, known: tuple[str, ...]
) -> dict[str, int]:
    rows = con.execute(
        f"SELECT {column}, count(*) FROM {table} "
        f"WHERE {column} IS NOT NULL AND NOT list_contains(?, {column}) GROUP BY 1 ORDER BY 1",
        [list(known)],
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def scores_out_of_range(
    con: duckdb.DuckDBPyConnection, table: str, score: str, maximum: str
) -> int:
    row = con.execute(
        f"SELECT count(*) FROM {table} WHERE {score} < 0 "
        f"OR ({maximum} IS NOT NULL AND {score} > {maximum})"
    ).fetchone()
    return int(row[0]) if row else 0


def _tables(warehouse: WarehouseResource) -> duckdb.DuckDBPyConnection:
    # The checks read id columns only; a cap keeps DuckDB from sizing itself to the machine.
    con = duckdb.connect(config={"memory_limit": "256MB", "threads": 2})
    attach_tables(con, WarehouseLayout(warehouse.root()).parquet_dir)
    return con


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            "unique_candidate_interview_id",
            asset="candidate_interviews",
            blocking=True,
            description="Each interview appears exactly once in candidate_interviews.",
        ),
        *[
            AssetCheckSpec(
                "rows_belong_to_known_interviews",
                asset=name,
                blocking=True,
                description=f"Every {name} row points at an interview in candidate_interviews.",
            )
            for name in CHILD_TABLES
        ],
        *[
            AssetCheckSpec(
                f"known_{column}_values",
                asset=table,
                description=f"{column} values outside the documented set are reported.",
            )
            for table, column, _ in ENUMS
        ],
        *[
            AssetCheckSpec(
                f"{score}_within_range",
                asset=table,
                description=f"{score} lies within [0, {maximum}].",
            )
            for table, score, maximum in SCORES
        ],
    ],
    name="warehouse_table_checks",
)
def warehouse_table_checks(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[AssetCheckResult]:
    con = _tables(warehouse)
    try:
        dupes = duplicate_ids(con)
        yield AssetCheckResult(
            asset_key="candidate_interviews",
            check_name="unique_candidate_interview_id",
            passed=not dupes,
            metadata={"duplicates": MetadataValue.json(dupes)},
        )
        for name in CHILD_TABLES:
            orphans = orphan_rows(con, name)
            yield AssetCheckResult(
                asset_key=name,
                check_name="rows_belong_to_known_interviews",
                passed=orphans == 0,
                metadata={"orphan_rows": orphans},
            )
        for table, column, known in ENUMS:
            unknown = unknown_values(con, table, column, known)
            yield AssetCheckResult(
                asset_key=table,
                check_name=f"known_{column}_values",
                passed=not unknown,
                severity=AssetCheckSeverity.WARN,
                metadata={"unknown_values": MetadataValue.json(unknown)},
            )
        for table, score, maximum in SCORES:
            bad = scores_out_of_range(con, table, score, maximum)
            yield AssetCheckResult(
                asset_key=table,
                check_name=f"{score}_within_range",
                passed=bad == 0,
                severity=AssetCheckSeverity.WARN,
                metadata={"rows_out_of_range": bad},
            )
    finally:
        con.close()


@asset_check(
    asset="interview_index",
    description="The API's listed total equals the interviews stored (not flagged deleted).",
)
def listed_total_matches_stored(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> AssetCheckResult:
    with Ledger(WarehouseLayout(warehouse.root()).ledger_path) as ledger:
        listing = ledger.run_listing(context.run.run_id)
        stored = ledger.interview_count()
    api_total = listing[0] if listing else None
    return AssetCheckResult(
        passed=api_total is None or api_total == stored,
        severity=AssetCheckSeverity.WARN,
        metadata={"api_total": api_total if api_total is not None else -1, "stored": stored},
    )


@asset_check(
    asset="raw_results",
    description="This run's fetched / skipped / quarantined counts; warns when some results "
    "could not be fetched or read (they are retried by the next run).",
)
def fetch_outcomes(context: AssetCheckExecutionContext) -> AssetCheckResult:
    event = context.instance.get_latest_materialization_event(AssetKey("raw_results"))
    meta: dict[str, Any] = {}
    if event is not None and event.asset_materialization is not None:
        meta = {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}
    failed = int(meta.get("failed", 0)) + int(meta.get("malformed", 0))
    return AssetCheckResult(
        passed=failed == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={
            key: int(meta.get(key, 0))
            for key in ("fetched", "skipped", "not_found", "malformed", "failed", "not_attempted")
        },
    )


ALL_CHECKS = [warehouse_table_checks, listed_total_matches_stored, fetch_outcomes]
