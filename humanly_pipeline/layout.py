"""Where everything lives inside the warehouse directory (one place, so nothing else guesses)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from humanly_pipeline.publish import DATABASE_NAME


@dataclass(frozen=True)
class WarehouseLayout:
    root: Path

    @property
    def duckdb_path(self) -> Path:
        return self.root / DATABASE_NAME

    @property
    def parquet_dir(self) -> Path:
        return self.root / "parquet"

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def ledger_path(self) -> Path:
        return self.root / "state" / "ledger.sqlite"
