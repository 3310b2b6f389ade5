"""Hive-partitioned Parquet (`<table>/status=<s>/created_date=<d>/part-0.parquet`) with whole-date
replacement that a crash cannot leave half done.

A date's rows live under one directory per status, so replacing a date touches several
directories. Each replacement is a small transaction: the new files are written to a staging area,
a journal naming every file to move in and every stale file to delete is renamed into place (the
commit point), then applied. A run that dies after the commit point is rolled forward by the next
run (`recover`); one that dies before it leaves the old data untouched.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from humanly_pipeline.schemas import PARTITION_COLUMNS, TABLES

FILE_NAME = "part-0.parquet"
# Hive's own name for an empty or null partition value.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def partition_value(value: str) -> str:
    """Hive-escape a value from the API for use as one path segment: only [A-Za-z0-9_-] stay
    as they are, everything else (including `.` and `/`) is percent-encoded, so a status such
    as `../../x` can never leave its directory. DuckDB's publish decodes it back."""
    return quote(value, safe="").replace(".", "%2E") or HIVE_NULL


class ParquetStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._journal_dir = root / "_txn"
        self._staging_dir = root / "_staging"

    def recover(self) -> int:
        """Finish committed replacements a killed run left undone; drop uncommitted ones."""
        applied = 0
        if self._journal_dir.exists():
            for journal in sorted(self._journal_dir.glob("*.json")):
                self._apply(orjson.loads(journal.read_bytes()))
                journal.unlink()
                applied += 1
        shutil.rmtree(self._staging_dir, ignore_errors=True)
        return applied

    def replace_date(self, day: date, tables: Mapping[str, pa.Table]) -> int:
        """Make `day`'s partitions of every table in `tables` hold exactly these rows.

        Each table must carry the partition columns; they become directories, not file columns.
        Returns the bytes written.
        """
        txn = uuid.uuid4().hex
        stage = self._staging_dir / txn
        moves: list[tuple[str, str]] = []
        written = 0
        day_dir = f"created_date={day.isoformat()}"
        for name, table in tables.items():
            if table.num_rows == 0:
                continue
            statuses = table.column("status").unique().to_pylist()
            data = table.drop_columns(list(PARTITION_COLUMNS))
            for status in sorted(statuses):
                rows = data.filter(pc.equal(table.column("status"), status))
                rel = f"{name}/status={partition_value(status)}/{day_dir}/{FILE_NAME}"
                staged = stage / rel
                staged.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(rows, staged, compression="zstd")
                written += staged.stat().st_size
                moves.append((str(staged.relative_to(self.root)), rel))
        targets = {final for _, final in moves}
        deletes = [
            str(path.relative_to(self.root))
            for name in tables
            for path in (self.root / name).glob(f"status=*/{day_dir}/*.parquet")
            if str(path.relative_to(self.root)) not in targets
        ]
        journal: dict[str, list[Any]] = {"moves": moves, "deletes": deletes}
        self._journal_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._journal_dir / f".{txn}.tmp"
        tmp.write_bytes(orjson.dumps(journal))
        final_journal = self._journal_dir / f"{txn}.json"
        os.replace(tmp, final_journal)  # the commit point
        self._apply(journal)
        final_journal.unlink()
        shutil.rmtree(stage, ignore_errors=True)
        return written

    def _apply(self, journal: Mapping[str, list[Any]]) -> None:
        for staged, final in journal["moves"]:
            src, dst = self.root / staged, self.root / final
            if src.exists():  # absent when a previous attempt already moved it
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
        for stale in journal["deletes"]:
            path = self.root / stale
            path.unlink(missing_ok=True)
            _remove_empty_dirs(path.parent, self.root)

    def files(self, table: str) -> list[Path]:
        return sorted((self.root / table).glob("status=*/created_date=*/*.parquet"))


def _remove_empty_dirs(directory: Path, stop: Path) -> None:
    while directory != stop and directory.exists() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def attach_tables(con: duckdb.DuckDBPyConnection, root: Path, prefix: str = "") -> None:
    """Expose every warehouse table under `root` to `con` as a temporary view `<prefix><table>`
    with the exact schema of schemas.TABLES, partition columns included and statuses decoded
    (an empty table when no file exists yet)."""
    for name, schema in TABLES.items():
        view = f"{prefix}{name}"  # identifiers come from schemas.TABLES, never from data
        if any((root / name).glob("status=*/created_date=*/*.parquet")):
            pattern = str(root / name / "status=*" / "created_date=*" / "*.parquet")
            # A view cannot take a bound parameter, so the path (ours, from configuration,
            # never from the API) is inlined as an escaped SQL string literal.
            literal = "'" + pattern.replace("'", "''") + "'"
            columns = ", ".join(
                f"CAST({_source(f.name)} AS {_DUCKDB_TYPES.get(str(f.type), 'VARCHAR')}) "
                f"AS {f.name}"
                if f.name in PARTITION_COLUMNS
                else f.name
                for f in schema
            )
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {columns} FROM read_parquet("
                f"{literal}, hive_partitioning = true, "
                "hive_types = {'status': VARCHAR, 'created_date': DATE})"
            )
        else:
            con.register(f"_empty_{view}", schema.empty_table())
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM _empty_{view}")


_DUCKDB_TYPES = {"string": "VARCHAR", "date32[day]": "DATE"}


def _source(column: str) -> str:
    # Status directories are Hive-escaped (see partition_value): decode them back.
    return "url_decode(status)" if column == "status" else column
