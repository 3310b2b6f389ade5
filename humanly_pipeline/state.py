"""The ledger: what the pipeline knows between runs, in one SQLite file under the warehouse.

It owns three facts that must survive a killed run:
- the interview index (every listed interview with its latest status, first and last seen, and
  when it disappeared from a complete listing), and the status history (each status an interview
  was listed in, first and last seen);
- the fetch ledger (per interview: the status it had when its results were last fetched, the
  outcome, where the body was landed, and when a still-changing payload is due to be re-polled);
- the quarantine (`load_errors`) and a small per-run record (the server's clock for the run).

SQLite rather than DuckDB or Parquet because the fan-out commits one small row per landed payload,
many per second, and each commit must be durable on its own (a SIGKILL loses at most the payload in
flight); SQLite's WAL mode does that cheaply and it ships with Python. Analysts never read this
file: what they need from it is published into DuckDB.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from humanly_pipeline.flatten import IndexRow, LoadError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS interviews (
    candidate_interview_id TEXT PRIMARY KEY,
    candidate_id TEXT,
    interview_id TEXT,
    status TEXT NOT NULL,
    created_at TEXT,
    invite_sent_at TEXT,
    created_date TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_seen_run TEXT,
    deleted_at TEXT
);
CREATE INDEX IF NOT EXISTS interviews_by_date ON interviews (created_date);
CREATE TABLE IF NOT EXISTS status_history (
    candidate_interview_id TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (candidate_interview_id, status)
);
CREATE TABLE IF NOT EXISTS fetches (
    candidate_interview_id TEXT PRIMARY KEY,
    status_at_fetch TEXT NOT NULL,
    outcome TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    first_fetched_at TEXT NOT NULL,
    http_status INTEGER,
    request_id TEXT,
    raw_ref TEXT,
    pending INTEGER NOT NULL,
    polls INTEGER NOT NULL,
    next_poll_at TEXT
);
CREATE TABLE IF NOT EXISTS load_errors (
    candidate_interview_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    error TEXT NOT NULL,
    raw_ref TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (candidate_interview_id, stage)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    server_time TEXT NOT NULL,
    started_at TEXT NOT NULL,
    api_total INTEGER,
    listed INTEGER
);
"""

# Outcomes recorded in `fetches.outcome`.
OK = "ok"
NOT_FOUND = "not_found"
MALFORMED = "malformed"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """The last successful fetch of one interview's results."""

    candidate_interview_id: str
    status_at_fetch: str
    outcome: str
    fetched_at: datetime
    first_fetched_at: datetime
    http_status: int | None
    request_id: str | None
    raw_ref: str | None
    pending: bool
    polls: int
    next_poll_at: datetime | None


class Ledger:
    """One connection to the ledger file; use from one thread (the step that owns it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        # WAL + NORMAL: each commit survives a killed process (not a power cut) without an fsync.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs -------------------------------------------------------------------------------
    def record_run(
        self, run_id: str, server_time: datetime, api_total: int | None, listed: int
    ) -> None:
        self._db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
            "server_time = excluded.server_time, api_total = excluded.api_total, "
            "listed = excluded.listed",
            (run_id, _iso(server_time), _iso(datetime.now(UTC)), api_total, listed),
        )

    def run_listing(self, run_id: str) -> tuple[int | None, int] | None:
        """(the API's total, interviews listed) of a run's listing pass."""
        row = self._db.execute(
            "SELECT api_total, listed FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def run_server_time(self, run_id: str) -> datetime | None:
        row = self._db.execute(
            "SELECT server_time FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        return _dt(row[0]) if row else None

    # -- the interview index ----------------------------------------------------------------
    def upsert_index(
        self, rows: Sequence[IndexRow], seen_at: datetime, run_id: str, *, complete: bool
    ) -> int:
        """Record a listing pass: add new interviews, update status and last_seen of known ones,
        extend the status history, and, when the pass was `complete` (every page listed), flag
        the interviews it no longer contains as deleted (and unflag any that came back).

        Returns how many interviews were newly flagged as deleted."""
        seen = _iso(seen_at)
        with self._transaction():
            self._db.executemany(
                "INSERT INTO interviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
                "ON CONFLICT (candidate_interview_id) DO UPDATE SET "
                "candidate_id = excluded.candidate_id, interview_id = excluded.interview_id, "
                "status = excluded.status, created_at = excluded.created_at, "
                "invite_sent_at = excluded.invite_sent_at, created_date = excluded.created_date, "
                "last_seen = excluded.last_seen, last_seen_run = excluded.last_seen_run, "
                "deleted_at = NULL",
                (
                    (
                        r.candidate_interview_id,
                        r.candidate_id,
                        r.interview_id,
                        r.status,
                        _iso(r.created_at),
                        _iso(r.invite_sent_at),
                        r.created_date.isoformat(),
                        seen,
                        seen,
                        run_id,
                    )
                    for r in rows
                ),
            )
            self._db.executemany(
                "INSERT INTO status_history VALUES (?, ?, ?, ?) "
                "ON CONFLICT (candidate_interview_id, status) DO UPDATE SET "
                "last_seen = excluded.last_seen",
                ((r.candidate_interview_id, r.status, seen, seen) for r in rows),
            )
            deleted = 0
            if complete:
                # A pass id, not a timestamp: the server's clock may not move between passes.
                deleted = self._db.execute(
                    "UPDATE interviews SET deleted_at = ? "
                    "WHERE deleted_at IS NULL AND last_seen_run IS NOT ?",
                    (seen, run_id),
                ).rowcount
        return deleted

    def index_rows(self, start: date, end: date) -> list[IndexRow]:
        """Interviews created between start and end (inclusive), ordered by id."""
        cur = self._db.execute(
            "SELECT candidate_interview_id, candidate_id, interview_id, status, created_at, "
            "invite_sent_at, created_date, deleted_at FROM interviews "
            "WHERE created_date BETWEEN ? AND ? ORDER BY candidate_interview_id",
            (start.isoformat(), end.isoformat()),
        )
        return [
            IndexRow(
                candidate_interview_id=row[0],
                candidate_id=row[1],
                interview_id=row[2],
                status=row[3],
                created_at=_dt(row[4]),
                invite_sent_at=_dt(row[5]),
                created_date=date.fromisoformat(row[6]),
                deleted_at=_dt(row[7]),
            )
            for row in cur
        ]

    def interview_count(self) -> int:
        """Interviews in the index that the latest complete listing still contained."""
        row = self._db.execute(
            "SELECT count(*) FROM interviews WHERE deleted_at IS NULL"
        ).fetchone()
        return int(row[0])

    def status_history(self) -> list[tuple[str, str, datetime, datetime]]:
        cur = self._db.execute(
            "SELECT candidate_interview_id, status, first_seen, last_seen FROM status_history "
            "ORDER BY candidate_interview_id, first_seen, status"
        )
        return [
            (r[0], r[1], datetime.fromisoformat(r[2]), datetime.fromisoformat(r[3])) for r in cur
        ]

    # -- the fetch ledger -------------------------------------------------------------------
    def fetch_records(self, ids: Sequence[str]) -> dict[str, FetchRecord]:
        found: dict[str, FetchRecord] = {}
        # Chunked because SQLite caps the number of bound parameters.
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT * FROM fetches WHERE candidate_interview_id IN ({marks})", chunk
            ):
                found[row[0]] = _fetch_record(row)
        return found

    def record_fetch(self, record: FetchRecord) -> None:
        """Record one landed payload; committed at once so a killed run keeps it."""
        self._db.execute(
            "INSERT OR REPLACE INTO fetches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.candidate_interview_id,
                record.status_at_fetch,
                record.outcome,
                _iso(record.fetched_at),
                _iso(record.first_fetched_at),
                record.http_status,
                record.request_id,
                record.raw_ref,
                int(record.pending),
                record.polls,
                _iso(record.next_poll_at),
            ),
        )

    # -- quarantine -------------------------------------------------------------------------
    def record_errors(self, errors: Iterable[LoadError], seen_at: datetime) -> None:
        seen = _iso(seen_at)
        with self._transaction():
            self._db.executemany(
                "INSERT INTO load_errors VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (candidate_interview_id, stage) DO UPDATE SET "
                "error = excluded.error, raw_ref = excluded.raw_ref, "
                "last_seen = excluded.last_seen",
                (
                    (e.candidate_interview_id, e.stage, e.error, e.raw_ref, seen, seen)
                    for e in errors
                ),
            )

    def clear_errors(self, ids: Iterable[str], stages: Sequence[str]) -> None:
        """Forget quarantine entries of these stages for interviews that now load cleanly."""
        marks = ",".join("?" * len(stages))
        with self._transaction():
            self._db.executemany(
                f"DELETE FROM load_errors WHERE candidate_interview_id = ? AND stage IN ({marks})",
                ((i, *stages) for i in ids),
            )

    def load_errors(self) -> list[tuple[str, str, str, str | None, datetime, datetime]]:
        cur = self._db.execute(
            "SELECT candidate_interview_id, stage, error, raw_ref, first_seen, last_seen "
            "FROM load_errors ORDER BY candidate_interview_id, stage"
        )
        return [
            (r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), datetime.fromisoformat(r[5]))
            for r in cur
        ]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _fetch_record(row: tuple[Any, ...]) -> FetchRecord:
    return FetchRecord(
        candidate_interview_id=row[0],
        status_at_fetch=row[1],
        outcome=row[2],
        fetched_at=datetime.fromisoformat(row[3]),
        first_fetched_at=datetime.fromisoformat(row[4]),
        http_status=row[5],
        request_id=row[6],
        raw_ref=row[7],
        pending=bool(row[8]),
        polls=row[9],
        next_poll_at=_dt(row[10]),
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
