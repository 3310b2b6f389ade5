"""Running the pipeline in-process (what `humanly-pipeline run` and `demo` do) and summarising it.

The job runs through Dagster's `materialize` on an ephemeral instance, exactly as a scheduled run
would, with the API key passed as an environment variable (bound with EnvVar) so that it never
enters run configuration. The summary is built from the materializations' metadata.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, EnvVar, materialize
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation
from dagster._core.execution.execute_in_process_result import ExecuteInProcessResult

from humanly_pipeline.assets import ALL_ASSETS, interview_index, raw_results
from humanly_pipeline.checks import ALL_CHECKS
from humanly_pipeline.layout import WarehouseLayout
from humanly_pipeline.resources import HumanlyApiResource, WarehouseResource
from humanly_pipeline.schedules import range_tags


@dataclass
class RunSummary:
    success: bool
    start: date
    end: date
    seconds: float
    duckdb_path: Path
    rows: dict[str, int] = field(default_factory=dict)
    index: dict[str, Any] = field(default_factory=dict)
    fetch: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    error: str | None = None

    @property
    def requests_total(self) -> int:
        return int(self.index.get("requests_total", 0)) + int(self.fetch.get("requests_total", 0))

    @property
    def results_requests(self) -> int:
        by_endpoint = self.fetch.get("requests", {}).get("requests_by_endpoint", {})
        return sum(by_endpoint.get("results", {}).values())

    @property
    def listing_requests(self) -> int:
        return int(self.index.get("requests_total", 0))

    @property
    def rate_limited(self) -> int:
        return sum(
            int(part.get("requests", {}).get("rate_limited_429", 0))
            for part in (self.index, self.fetch)
        )


def run_pipeline(
    warehouse_dir: Path,
    start: date,
    end: date,
    *,
    base_url: str | None = None,
    requests_per_hour: int | None = None,
    requests_per_minute: int | None = None,
    concurrency: int | None = None,
    full_refresh: bool = False,
    max_requests: int | None = None,
    from_raw: bool = False,
    instance: DagsterInstance | None = None,
) -> RunSummary:
    """Materialize every asset for the created dates start..end as one run.

    The API key is read from HUMANLY_API_KEY when the run starts. `from_raw` rebuilds the tables
    and the database from the raw landing only: no listing, no fetch, zero API requests (after a
    mapping fix, or to clear quarantine entries that a fix now reads)."""
    began = time.monotonic()
    api = HumanlyApiResource(
        api_key=EnvVar("HUMANLY_API_KEY"),
        base_url=base_url,
        requests_per_hour=requests_per_hour,
        requests_per_minute=requests_per_minute,
        concurrency=concurrency,
    )
    ops = (
        {}
        if from_raw
        else {
            "raw_results": {"config": {"full_refresh": full_refresh, "max_requests": max_requests}}
        }
    )
    run_config = {"ops": ops, "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    selection = (
        [key for a in ALL_ASSETS if a not in FETCHING_ASSETS for key in a.keys]
        if from_raw
        else None
    )
    # Dagster's own per-event chatter would drown the progress display.
    logging.getLogger("dagster").setLevel(logging.WARNING)
    with _instance(instance) as inst:
        result = materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            resources={
                "humanly_api": api,
                "warehouse": WarehouseResource(warehouse_dir=str(warehouse_dir)),
            },
            run_config=run_config,
            tags=range_tags(start, end),
            instance=inst,
            raise_on_error=False,
            selection=selection,
        )
    summary = RunSummary(
        success=result.success,
        start=start,
        end=end,
        seconds=time.monotonic() - began,
        duckdb_path=WarehouseLayout(warehouse_dir).duckdb_path,
        index=_metadata(result, "interview_index"),
        fetch=_metadata(result, "raw_results"),
        tables=_metadata(result, "warehouse_tables"),
        checks=_check_results(result),
        error=None if result.success else _failure_message(result, api.settings().base_url),
    )
    summary.rows = dict(_metadata(result, "humanly_duckdb").get("rows", {}))
    return summary


# The assets that call the API: left out of a rebuild from the raw landing.
FETCHING_ASSETS = (interview_index, raw_results)


def _check_results(result: ExecuteInProcessResult) -> dict[str, bool]:
    """`asset/check_name` -> passed, for every check evaluated in the run."""
    out: dict[str, bool] = {}
    for event in result.all_events:
        data = event.event_specific_data
        if isinstance(data, AssetCheckEvaluation):
            out[f"{data.asset_key.to_user_string()}/{data.check_name}"] = data.passed
    return out


@contextmanager
def _instance(given: DagsterInstance | None) -> Iterator[DagsterInstance]:
    """The given instance, or an ephemeral one that lives for the run."""
    if given is not None:
        yield given
        return
    owned = DagsterInstance.ephemeral()
    try:
        yield owned
    finally:
        owned.dispose()


def _metadata(result: ExecuteInProcessResult, node: str) -> dict[str, Any]:
    """The metadata of a node's first materialization, as plain values."""
    try:
        events = result.asset_materializations_for_node(node)
    except Exception:  # the node did not run (an upstream step failed)
        return {}
    if not events:
        return {}
    return {key: getattr(value, "value", value) for key, value in events[0].metadata.items()}


def _failure_message(result: ExecuteInProcessResult, base_url: str) -> str:
    """The first failed step's user-facing error, on one line."""
    for event in result.all_events:
        if not (event.is_step_failure and event.step_failure_data is not None):
            continue
        error = event.step_failure_data.error
        while error is not None and error.cause is not None and _is_wrapper(error.cls_name):
            error = error.cause
        if error is None:
            break
        text = error.message.strip().splitlines()[0] if error.message.strip() else ""
        # SerializableErrorInfo messages read "module.ClassName: text"; keep the text.
        prefix, _, rest = text.partition(": ")
        if error.cls_name and prefix.endswith(error.cls_name):
            text = rest
        if error.cls_name in _UNREACHABLE:
            return f"cannot reach the Gather API at {base_url}: {text or error.cls_name}"
        return text or f"step {event.step_key} failed"
    return "the run failed"


# httpx's transport errors that survive the client's retries: the API is not reachable.
_UNREACHABLE = {
    "ConnectError",
    "ConnectTimeout",
    "ReadTimeout",
    "RemoteProtocolError",
    "ReadError",
    "WriteError",
    "PoolTimeout",
    "NetworkError",
    "TransportError",
}


def _is_wrapper(cls_name: str | None) -> bool:
    return cls_name in {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}
