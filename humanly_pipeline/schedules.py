"""The job and its schedules: a nightly run over a rolling lookback window, a weekly wider one.

Why these windows: an interview keeps changing for weeks after its invite (it is answered within
days, reviewed within a week or two, hired or archived within about a month). The listing pass
costs the same whatever the window (the API cannot filter by date), and only changed or pending
interviews cost a results request, so a wide window is cheap in requests; it costs only local
flatten and Parquet time. Nightly covers 30 days; the weekly reconciliation 180 days catches late
hires and archivals of older interviews.
"""

from __future__ import annotations

from datetime import date

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from humanly_pipeline.assets import GROUP
from humanly_pipeline.partitions import daily_partitions, partition_key
from humanly_pipeline.windows import (
    NIGHTLY_LOOKBACK_DAYS,
    PARTITIONS_START,
    WEEKLY_LOOKBACK_DAYS,
    lookback_range,
)

humanly_job = define_asset_job(
    "humanly_nightly",
    selection=AssetSelection.groups(GROUP),
    partitions_def=daily_partitions,
    description="List, fetch what changed, flatten and publish a range of created dates.",
)


def range_tags(start: date, end: date) -> dict[str, str]:
    """Run tags that make one run cover every daily partition from start to end inclusive."""
    start = max(start, date.fromisoformat(PARTITIONS_START))
    return {
        ASSET_PARTITION_RANGE_START_TAG: partition_key(start),
        ASSET_PARTITION_RANGE_END_TAG: partition_key(end),
    }


def _request(context: ScheduleEvaluationContext, days: int, kind: str) -> RunRequest:
    today = context.scheduled_execution_time.date()
    start, end = lookback_range(today, days)
    return RunRequest(run_key=f"{kind}-{today.isoformat()}", tags=range_tags(start, end))


@schedule(
    job=humanly_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description=f"Nightly: the last {NIGHTLY_LOOKBACK_DAYS} days of created dates, one run.",
)
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    return _request(context, NIGHTLY_LOOKBACK_DAYS, "nightly")


@schedule(
    job=humanly_job,
    cron_schedule="0 5 * * 0",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description=f"Weekly reconciliation: the last {WEEKLY_LOOKBACK_DAYS} days, one run.",
)
def weekly_reconciliation_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    return _request(context, WEEKLY_LOOKBACK_DAYS, "weekly")


SCHEDULES: list[ScheduleDefinition] = [nightly_schedule, weekly_reconciliation_schedule]
