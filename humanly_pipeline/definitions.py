"""The one Dagster `Definitions` object: `dagster dev -m humanly_pipeline.definitions`.

Steps run in one process (in-process executor): they form a chain anyway, and one process means
one shared request budget and one HTTP connection pool for the whole run.
"""

from __future__ import annotations

from dagster import Definitions, EnvVar, in_process_executor

from humanly_pipeline.assets import ALL_ASSETS
from humanly_pipeline.checks import ALL_CHECKS
from humanly_pipeline.resources import HumanlyApiResource, WarehouseResource
from humanly_pipeline.schedules import SCHEDULES, humanly_job

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[humanly_job],
    schedules=SCHEDULES,
    resources={
        "humanly_api": HumanlyApiResource(api_key=EnvVar("HUMANLY_API_KEY")),
        "warehouse": WarehouseResource(),
    },
    executor=in_process_executor,
)
