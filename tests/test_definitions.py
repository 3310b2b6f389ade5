"""The Dagster code location as deployed: the definitions load, the schedules ask for the right
ranges, and dagster_cloud.yaml passes the dagster-cloud CLI's own schema."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from dagster import DefaultScheduleStatus, build_schedule_context
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from dagster_cloud_cli.config.models import load_dagster_cloud_yaml

from humanly_pipeline.definitions import defs
from humanly_pipeline.schedules import nightly_schedule, weekly_reconciliation_schedule

ROOT = Path(__file__).resolve().parents[1]


def test_the_cloud_yaml_names_the_one_code_location() -> None:
    config = load_dagster_cloud_yaml((ROOT / "dagster_cloud.yaml").read_text())
    (location,) = config.locations
    assert location.code_source is not None
    assert location.code_source.module_name == "humanly_pipeline.definitions"


def test_the_dagster_cli_loads_the_definitions() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "humanly_pipeline.definitions"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "Validation successful for code location humanly_pipeline.definitions" in output


def test_assets_checks_and_schedules_are_registered() -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == {
        "interview_index",
        "raw_results",
        "candidate_interviews",
        "transcriptions",
        "scores",
        "ratings",
        "summaries",
        "scorecards",
        "scorecard_results",
        "humanly_duckdb",
    }
    for schedule in (nightly_schedule, weekly_reconciliation_schedule):
        assert schedule.default_status == DefaultScheduleStatus.RUNNING


def test_schedules_request_one_run_over_their_lookback_window() -> None:
    when = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    nightly = nightly_schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=when))
    (request,) = nightly.run_requests or []
    assert request.tags[ASSET_PARTITION_RANGE_START_TAG] == "2026-11-04"
    assert request.tags[ASSET_PARTITION_RANGE_END_TAG] == "2026-12-03"
    weekly = weekly_reconciliation_schedule.evaluate_tick(
        build_schedule_context(scheduled_execution_time=when)
    )
    (request,) = weekly.run_requests or []
    assert request.tags[ASSET_PARTITION_RANGE_START_TAG] == "2026-06-07"
