"""Dagster resources: thin configuration holders that build the API client and locate the warehouse.

Every field left unset falls back, when a run starts (never at import), to the environment
variable of CONTRACT.md and then to its documented default; `definitions.py` binds the API key with
`EnvVar`, so the key never appears in run configuration or Dagster's storage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from humanly_pipeline.client import GatherClient, ProgressEvent
from humanly_pipeline.settings import Settings


class HumanlyApiResource(ConfigurableResource):
    """Connection and request budget for the Gather API."""

    api_key: str = Field(description="Gather API key (bind with EnvVar('HUMANLY_API_KEY')).")
    base_url: str | None = Field(
        default=None, description="API root; unset: HUMANLY_BASE_URL, else production."
    )
    requests_per_hour: int | None = Field(
        default=None, description="Budget per rolling hour (0 = unlimited); unset: env or 1000."
    )
    requests_per_minute: int | None = Field(
        default=None, description="Budget per rolling minute (0 = unlimited); unset: env or 100."
    )
    concurrency: int | None = Field(
        default=None, description="Requests in flight at once; unset: HUMANLY_CONCURRENCY or 8."
    )

    def settings(self) -> Settings:
        env = Settings.from_env()
        return Settings(
            api_key=self.api_key,
            base_url=(self.base_url or env.base_url).rstrip("/"),
            warehouse_dir=env.warehouse_dir,
            requests_per_hour=_pick(self.requests_per_hour, env.requests_per_hour),
            requests_per_minute=_pick(self.requests_per_minute, env.requests_per_minute),
            concurrency=_pick(self.concurrency, env.concurrency),
        )

    def build_client(
        self,
        *,
        max_requests: int | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> GatherClient:
        s = self.settings()
        return GatherClient(
            s.base_url,
            self.api_key,
            requests_per_hour=s.requests_per_hour,
            requests_per_minute=s.requests_per_minute,
            concurrency=s.concurrency,
            max_requests=max_requests,
            on_progress=on_progress,
        )


class WarehouseResource(ConfigurableResource):
    """Where DuckDB, Parquet, the raw landing and the ledger live."""

    warehouse_dir: str | None = Field(
        default=None,
        description="Warehouse directory; unset: HUMANLY_WAREHOUSE_DIR or ./warehouse.",
    )

    def root(self) -> Path:
        chosen = (
            Path(self.warehouse_dir) if self.warehouse_dir else Settings.from_env().warehouse_dir
        )
        return chosen.expanduser().resolve()


def _pick(configured: int | None, fallback: int) -> int:
    return fallback if configured is None else configured
