"""The daily partitions (UTC day of `createdAt`) and the date ranges a run covers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition

from humanly_pipeline.windows import PARTITIONS_START

# end_offset=1 makes today's partition exist, so interviews created today can be loaded tonight.
daily_partitions = DailyPartitionsDefinition(
    start_date=PARTITIONS_START, end_offset=1, timezone="UTC"
)

# A backfill of any range is one run with one listing pass (DESIGN.md).
single_run = BackfillPolicy.single_run()


def run_date_range(context: AssetExecutionContext) -> tuple[date, date]:
    """The inclusive UTC date range of the partitions this run materializes."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def dates_between(start: date, end: date) -> list[date]:
    """Every date from start to end inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def partition_key(day: date | datetime) -> str:
    return day.strftime("%Y-%m-%d")
