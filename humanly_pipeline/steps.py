"""The pipeline's steps as plain functions (index, fetch, flatten, publish), free of Dagster.

Assets call these and turn their reports into metadata; tests and benchmarks can call them
directly. Each step reads and writes only through the ledger, the raw store, the Parquet store
and the DuckDB publish, so any step can be re-run on its own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from humanly_pipeline import progress
from humanly_pipeline.client import GatherClient, ResultOutcome
from humanly_pipeline.flatten import IndexRow, LoadError, RawResult, flatten, parse_index_item
from humanly_pipeline.landing import RawStore
from humanly_pipeline.layout import WarehouseLayout
from humanly_pipeline.parquet import ParquetStore
from humanly_pipeline.partitions import dates_between
from humanly_pipeline.planning import RepollPolicy, payload_pending, plan_fetches
from humanly_pipeline.publish import PublishResult, publish_duckdb
from humanly_pipeline.schemas import LOAD_ERRORS_SCHEMA, STATUS_HISTORY_SCHEMA
from humanly_pipeline.state import MALFORMED, NOT_FOUND, OK, FetchRecord, Ledger

log = logging.getLogger(__name__)

# Below this share of the known interviews, a listing is not trusted to reveal deletions.
MIN_LISTED_SHARE_FOR_DELETIONS = 0.5

# Quarantine stages that a clean re-flatten clears.
FLATTEN_STAGES = ("parse", "shape", "flatten")


@dataclass
class IndexReport:
    listed: int
    in_range: int
    by_status: dict[str, int]
    invalid: int
    server_time: datetime
    pages: int
    total: int | None
    duplicates_dropped: int
    relisted: bool
    reconciled: bool
    deleted: int
    deletion_check_skipped: bool


@dataclass
class FetchReport:
    considered: int = 0
    planned: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    fetched: int = 0
    not_found: int = 0
    malformed: int = 0
    failed: int = 0
    pending: int = 0
    not_attempted: int = 0
    bytes_landed: int = 0


@dataclass
class FlattenReport:
    rows: Counter[str] = field(default_factory=Counter)
    bytes_written: int = 0
    dates: int = 0
    errors: int = 0
    new_fields: Counter[str] = field(default_factory=Counter)
    coerced: Counter[str] = field(default_factory=Counter)
    recovered_transactions: int = 0


def index_step(
    client: GatherClient, ledger: Ledger, run_id: str, start: date, end: date
) -> IndexReport:
    """One listing pass over every candidate interview; records the index and the server clock."""
    progress.report("listing", 0, None, "listing candidate interviews")
    listing = client.list_candidate_interviews()
    now = listing.server_time or datetime.now(UTC)
    rows: list[IndexRow] = []
    errors: list[LoadError] = []
    for item in listing.items:
        try:
            rows.append(parse_index_item(item))
        except (ValueError, TypeError) as exc:
            errors.append(LoadError(str(item.get("id", "?")), "index", str(exc), None))
    # A listing that suddenly lacks most known interviews is more likely an API fault than a
    # mass deletion: then nothing is flagged, and the next complete listing decides.
    known = ledger.interview_count()
    plausible = len(rows) >= known * MIN_LISTED_SHARE_FOR_DELETIONS
    deleted = ledger.upsert_index(rows, now, run_id, complete=plausible)
    if not plausible:
        log.warning(
            "listing returned %d interviews but %d were known: deletions not flagged this run",
            len(rows),
            known,
        )
    ledger.record_errors(errors, now)
    ledger.record_run(run_id, now, listing.total, len(rows))
    in_range = Counter(r.status for r in rows if start <= r.created_date <= end)
    return IndexReport(
        listed=len(rows),
        in_range=sum(in_range.values()),
        by_status=dict(sorted(in_range.items())),
        invalid=len(errors),
        server_time=now,
        pages=listing.pages_requested,
        total=listing.total,
        duplicates_dropped=listing.duplicates_dropped,
        relisted=listing.relisted,
        reconciled=listing.reconciled,
        deleted=deleted,
        deletion_check_skipped=not plausible,
    )


def fetch_step(
    client: GatherClient,
    ledger: Ledger,
    raw: RawStore,
    start: date,
    end: date,
    now: datetime,
    *,
    full_refresh: bool = False,
    policy: RepollPolicy | None = None,
) -> FetchReport:
    """Fetch the results that the data needs (see planning.py) and land each one as it arrives."""
    policy = policy or RepollPolicy()
    raw.sweep_temporaries()
    rows = {r.candidate_interview_id: r for r in ledger.index_rows(start, end)}
    previous = ledger.fetch_records(list(rows))
    plan = plan_fetches(list(rows.values()), previous, now, full_refresh=full_refresh)
    report = FetchReport(
        considered=len(rows),
        planned=len(plan.to_fetch),
        reasons=plan.reasons,
        skipped=plan.skipped,
    )
    progress.report("fetching", 0, report.planned, "fetching results")
    fetch_errors: list[LoadError] = []
    landed: list[str] = []
    for done, outcome in enumerate(client.fetch_results(plan.to_fetch), start=1):
        row = rows[outcome.candidate_interview_id]
        record = _land(outcome, row, previous.get(row.candidate_interview_id), raw, policy)
        if record is None:
            report.failed += 1
            fetch_errors.append(
                LoadError(row.candidate_interview_id, "fetch", outcome.error or "failed", None)
            )
        else:
            ledger.record_fetch(record)
            landed.append(record.candidate_interview_id)
            report.pending += record.pending
            report.fetched += record.outcome == OK
            report.not_found += record.outcome == NOT_FOUND
            report.malformed += record.outcome == MALFORMED
            if outcome.body is not None and record.raw_ref is not None:
                report.bytes_landed += len(outcome.body)
        progress.report("fetching", done, report.planned)
    report.not_attempted = client.stats.not_attempted
    ledger.record_errors(fetch_errors, now)
    ledger.clear_errors(landed, ("fetch",))
    return report


def _land(
    outcome: ResultOutcome,
    row: IndexRow,
    last: FetchRecord | None,
    raw: RawStore,
    policy: RepollPolicy,
) -> FetchRecord | None:
    """Land one outcome and return its ledger record; None when nothing usable arrived (the
    previous payload, if any, stays the latest one)."""
    if outcome.kind == "ok":
        result, ref, pending = OK, None, payload_pending(outcome.data, outcome.fetched_at)
    elif outcome.kind == "not_found":
        # Answered but no results yet (or no longer): nothing to land, poll again later.
        result, ref, pending = NOT_FOUND, None, True
    elif outcome.body is not None and outcome.error_kind in {"malformed_json", "bad_envelope"}:
        # An unreadable 200 is kept as it came, so the quarantine can point at it and a fixed
        # mapping can replay it; it is re-fetched on the pending schedule.
        result, ref, pending = MALFORMED, None, True
    else:
        return None
    if outcome.body is not None and result != NOT_FOUND:
        ref = raw.land(row.candidate_interview_id, row.created_date, outcome.body)
    elif last is not None and last.raw_ref is not None:
        raw.remove(last.raw_ref)
    same_status = last is not None and last.status_at_fetch == row.status
    polls = (last.polls + 1) if (last is not None and same_status and last.pending) else 1
    first = last.first_fetched_at if (last is not None and same_status) else outcome.fetched_at
    return FetchRecord(
        candidate_interview_id=row.candidate_interview_id,
        status_at_fetch=row.status,
        outcome=result,
        fetched_at=outcome.fetched_at,
        first_fetched_at=first,
        http_status=outcome.http_status,
        request_id=outcome.request_id,
        raw_ref=ref,
        pending=pending,
        polls=polls,
        next_poll_at=policy.next_poll(outcome.fetched_at, first, polls) if pending else None,
    )


def flatten_step(
    layout: WarehouseLayout,
    ledger: Ledger,
    start: date,
    end: date,
    *,
    on_date: Callable[[date, int], None] | None = None,
) -> FlattenReport:
    """Rebuild every table's partitions for each date of the range from the index and raw landing
    (no API calls), one date at a time so memory stays bounded by a day's data."""
    raw, parquet = RawStore(layout.raw_dir), ParquetStore(layout.parquet_dir)
    with layout.write_lock():
        return _flatten_dates(ledger, raw, parquet, start, end, on_date)


def _flatten_dates(
    ledger: Ledger,
    raw: RawStore,
    parquet: ParquetStore,
    start: date,
    end: date,
    on_date: Callable[[date, int], None] | None,
) -> FlattenReport:
    report = FlattenReport(recovered_transactions=parquet.recover())
    days = dates_between(start, end)
    now = datetime.now(UTC)
    for n, day in enumerate(days, start=1):
        rows = ledger.index_rows(day, day)
        records = ledger.fetch_records([r.candidate_interview_id for r in rows])
        raws: dict[str, RawResult] = {}
        missing: list[LoadError] = []
        for rec in records.values():
            if rec.raw_ref is None:
                continue
            try:
                body = raw.read(rec.raw_ref)
            except FileNotFoundError:
                missing.append(
                    LoadError(rec.candidate_interview_id, "raw", "landed body missing", rec.raw_ref)
                )
                continue
            raws[rec.candidate_interview_id] = RawResult(
                rec.candidate_interview_id, body, rec.fetched_at, rec.raw_ref
            )
        flat = flatten(rows, raws)
        report.bytes_written += parquet.replace_date(day, flat.tables)
        for name, table in flat.tables.items():
            report.rows[name] += table.num_rows
        errors = [*flat.errors, *missing]
        report.errors += len(errors)
        report.new_fields.update(flat.new_fields)
        report.coerced.update(flat.coerced)
        failed = {e.candidate_interview_id for e in errors}
        ledger.record_errors(errors, now)
        ledger.clear_errors([i for i in raws if i not in failed], (*FLATTEN_STAGES, "raw"))
        report.dates += 1
        progress.report("flattening", n, len(days))
        if on_date is not None:
            on_date(day, n)
    return report


def publish_step(layout: WarehouseLayout, ledger: Ledger) -> PublishResult:
    """Rebuild humanly.duckdb from the Parquet tables, the quarantine and the status history."""
    progress.report("publishing", 0, 1, "publishing humanly.duckdb")
    extra = {
        "load_errors": _table(LOAD_ERRORS_SCHEMA, ledger.load_errors()),
        "status_history": _table(STATUS_HISTORY_SCHEMA, ledger.status_history()),
    }
    with layout.write_lock():
        result = publish_duckdb(layout.root, layout.parquet_dir, extra)
    progress.report("publishing", 1, 1)
    return result


def _table(schema: pa.Schema, rows: Sequence[Sequence[Any]]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for row in rows:
        for name, value in zip(schema.names, row, strict=True):
            columns[name].append(value)
    return pa.Table.from_pydict(columns, schema=schema)
