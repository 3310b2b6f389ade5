"""The Dagster assets: thin wrappers that open the stores, call `steps`, and report metadata.

Graph: interview_index -> raw_results -> the seven warehouse tables (one multi-asset step) ->
humanly_duckdb. All are partitioned by the UTC day of `createdAt` and back-filled as one run.
"""

import time
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BetaWarning,
    Config,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
    multi_asset,
)
from pydantic import Field

from humanly_pipeline import progress
from humanly_pipeline.client import ProgressEvent
from humanly_pipeline.dictionary import INDEX_COLUMNS, TABLE_DESCRIPTIONS, relations_markdown
from humanly_pipeline.landing import RawStore
from humanly_pipeline.layout import WarehouseLayout
from humanly_pipeline.partitions import daily_partitions, run_date_range, single_run
from humanly_pipeline.preview import duckdb_preview, parquet_preview
from humanly_pipeline.resources import HumanlyApiResource, WarehouseResource
from humanly_pipeline.schemas import TABLES
from humanly_pipeline.state import Ledger
from humanly_pipeline.steps import fetch_step, flatten_step, index_step, publish_step

# BackfillPolicy is marked beta, yet it is Dagster's documented way to single-run backfills;
# without this filter every `dagster dev` and CLI start prints the same warning ten times.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`", category=BetaWarning)

GROUP = "humanly"
OWNERS = ["team:data-engineering"]
COMMON: dict[str, Any] = {
    "partitions_def": daily_partitions,
    "backfill_policy": single_run,
    "group_name": GROUP,
    "owners": OWNERS,
}


class FetchConfig(Config):
    full_refresh: bool = Field(
        default=False, description="Re-fetch the results of every answered interview in range."
    )
    max_requests: int | None = Field(
        default=None,
        description="Stop cleanly after this many API requests in this step; the rest waits "
        "for the next run.",
    )


def column_schema(name: str) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(
                name=f.name,
                type=str(f.type),
                description=(f.metadata or {}).get(b"description", b"").decode(),
            )
            for f in TABLES[name]
        ]
    )


def _dagster_log_sink(context: AssetExecutionContext) -> progress.Sink:
    """Log progress milestones (every ~10 %, and every budget wait) through Dagster."""
    last: dict[str, float] = {}

    def sink(p: progress.Progress) -> None:
        step = max((p.total or 0) // 10, 1)
        milestone = p.stage == "waiting" or p.done in (0, p.total) or p.done % step == 0
        if milestone and (time.monotonic() - last.get(p.stage, 0) > 1 or p.done == p.total):
            last[p.stage] = time.monotonic()
            total = f"/{p.total}" if p.total is not None else ""
            context.log.info(f"{p.stage}: {p.done}{total} {p.message}".rstrip())

    return sink


def _watching(context: AssetExecutionContext) -> AbstractContextManager[None]:
    """Progress goes to the CLI's sink when one is installed, else to Dagster's log."""
    if progress.has_sink():
        return nullcontext()
    return progress.reporting_to(_dagster_log_sink(context))


def _client_progress(event: ProgressEvent) -> None:
    if event.kind == "page":
        progress.report("listing", event.done, event.total, "pages")
    elif event.kind in ("waiting", "retry"):
        progress.report("waiting", event.done, event.total, event.message)


@asset(
    description="Every candidate interview as listed by the Gather API (one listing pass per "
    "run), recorded in the ledger with its latest status. Costs ceil(total/100) requests.",
    kinds={"python", "sqlite"},
    metadata={
        "dagster/column_schema": TableSchema(
            columns=[
                c for c in column_schema("candidate_interviews").columns if c.name in INDEX_COLUMNS
            ]
        )
    },
    **COMMON,
)
def interview_index(
    context: AssetExecutionContext, humanly_api: HumanlyApiResource, warehouse: WarehouseResource
) -> MaterializeResult:
    start, end = run_date_range(context)
    layout = WarehouseLayout(warehouse.root())
    with (
        _watching(context),
        humanly_api.build_client(on_progress=_client_progress) as client,
        Ledger(layout.ledger_path) as ledger,
    ):
        report = index_step(client, ledger, context.run_id, start, end)
        stats = client.stats.as_metadata()
    context.log.info(
        f"listed {report.listed} interviews in {report.pages} pages; "
        f"{report.in_range} created {start}..{end}"
    )
    return MaterializeResult(
        metadata={
            "listed": report.listed,
            "in_range": report.in_range,
            "in_range_by_status": MetadataValue.json(report.by_status),
            "invalid_items": report.invalid,
            "api_total": report.total if report.total is not None else -1,
            "pages": report.pages,
            "duplicates_dropped": report.duplicates_dropped,
            "deleted": report.deleted,
            "deletion_check_skipped": report.deletion_check_skipped,
            "relisted": report.relisted,
            "reconciled": report.reconciled,
            "server_time": report.server_time.isoformat(),
            "requests_total": stats["requests_total"],
            "requests": MetadataValue.json(stats),
        }
    )


@asset(
    deps=[interview_index],
    description="Results payloads landed under raw/ as they arrive: only new, changed and "
    "pending interviews are fetched (never invite_sent), each costing one request.",
    kinds={"python", "json"},
    **COMMON,
)
def raw_results(
    context: AssetExecutionContext,
    config: FetchConfig,
    humanly_api: HumanlyApiResource,
    warehouse: WarehouseResource,
) -> MaterializeResult:
    start, end = run_date_range(context)
    layout = WarehouseLayout(warehouse.root())
    with (
        _watching(context),
        humanly_api.build_client(
            max_requests=config.max_requests, on_progress=_client_progress
        ) as client,
        Ledger(layout.ledger_path) as ledger,
    ):
        now = ledger.run_server_time(context.run_id)
        if now is None:
            raise RuntimeError("interview_index must run before raw_results in the same run")
        report = fetch_step(
            client,
            ledger,
            RawStore(layout.raw_dir),
            start,
            end,
            now,
            full_refresh=config.full_refresh,
        )
        stats = client.stats.as_metadata()
    context.log.info(
        f"fetched {report.fetched} results ({report.not_found} not found, {report.malformed} "
        f"unreadable, {report.failed} failed) of {report.planned} planned; "
        f"{sum(report.skipped.values())} skipped; {stats['requests_total']} requests"
    )
    return MaterializeResult(
        metadata={
            "interviews_in_range": report.considered,
            "planned": report.planned,
            "fetched": report.fetched,
            "not_found": report.not_found,
            "malformed": report.malformed,
            "failed": report.failed,
            "pending": report.pending,
            "skipped": sum(report.skipped.values()),
            "not_attempted": report.not_attempted,
            "fetch_reasons": MetadataValue.json(dict(report.reasons)),
            "skip_reasons": MetadataValue.json(dict(report.skipped)),
            "bytes_landed": report.bytes_landed,
            "requests_total": stats["requests_total"],
            "rate_limited_429": stats["rate_limited_429"],
            "requests": MetadataValue.json(stats),
            "raw_path": MetadataValue.path(str(layout.raw_dir)),
        }
    )


@multi_asset(
    specs=[
        AssetSpec(
            name,
            deps=[raw_results],
            description=TABLE_DESCRIPTIONS[name]
            + " Hive Parquet under parquet/<table>/status=…/created_date=….",
            kinds={"parquet"},
            group_name=GROUP,
            owners=OWNERS,
            metadata={"dagster/column_schema": column_schema(name)},
        )
        for name in TABLES
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    name="warehouse_tables",
)
def warehouse_tables(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    """Flatten the landed payloads of each date of the range and replace its partitions."""
    start, end = run_date_range(context)
    layout = WarehouseLayout(warehouse.root())
    with _watching(context), Ledger(layout.ledger_path) as ledger:
        report = flatten_step(layout, ledger, start, end)
    if report.new_fields:
        context.log.warning(f"new fields seen: {', '.join(sorted(report.new_fields))}")
    for name in TABLES:
        yield MaterializeResult(
            asset_key=AssetKey(name),
            metadata={
                "dagster/row_count": report.rows[name],
                "dagster/column_schema": column_schema(name),
                "dates": report.dates,
                "load_errors": report.errors,
                "new_fields": MetadataValue.json(dict(report.new_fields)),
                "coerced_values": MetadataValue.json(dict(report.coerced)),
                "path": MetadataValue.path(str(layout.parquet_dir / name)),
                "preview": MetadataValue.md(parquet_preview(layout.parquet_dir, name)),
            },
        )


@asset(
    deps=list(TABLES),
    description="humanly.duckdb rebuilt from the Parquet tables, the quarantine and the status "
    "history, with the modeled views (interview_facts, funnel_daily, criterion_scores, "
    "time_in_status) and a COMMENT on every table, view and column, then swapped in atomically: "
    "analysts holding it open are never blocked and never see a half-written run. "
    "Data dictionary: docs/warehouse.md.",
    kinds={"duckdb"},
    metadata={"tables": MetadataValue.md(relations_markdown())},
    **COMMON,
)
def humanly_duckdb(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    layout = WarehouseLayout(warehouse.root())
    with _watching(context), Ledger(layout.ledger_path) as ledger:
        result = publish_step(layout, ledger)
    return MaterializeResult(
        metadata={
            "rows": MetadataValue.json(result.rows),
            "bytes": result.bytes,
            "path": MetadataValue.path(str(result.path)),
            "preview": MetadataValue.md(duckdb_preview(result.path)),
        }
    )


ALL_ASSETS = [interview_index, raw_results, warehouse_tables, humanly_duckdb]
