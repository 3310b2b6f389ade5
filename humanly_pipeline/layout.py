"""Where everything lives inside the warehouse directory (one place, so nothing else guesses)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
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

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the warehouse's writer lock: two runs (a nightly and a manual backfill, say)
        take turns rewriting Parquet partitions and publishing, instead of interleaving."""
        path = self.root / "state" / "write.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
