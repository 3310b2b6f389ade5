"""Raw landing, the ledger, the Parquet partition swap and the DuckDB publish, on real files."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from humanly_pipeline.flatten import IndexRow, LoadError
from humanly_pipeline.landing import RawStore, safe_file_name, strip_invite_tokens
from humanly_pipeline.parquet import ParquetStore, partition_value
from humanly_pipeline.publish import publish_duckdb
from humanly_pipeline.schemas import TABLES
from humanly_pipeline.state import Ledger

DAY = date(2026, 5, 1)
T0 = datetime(2026, 5, 2, tzinfo=UTC)


def interviews(*rows: tuple[str, str]) -> pa.Table:
    """A candidate_interviews table with the given (id, status) rows on DAY."""
    schema = TABLES["candidate_interviews"]
    data = {name: [None] * len(rows) for name in schema.names}
    data["candidate_interview_id"] = [r[0] for r in rows]
    data["status"] = [r[1] for r in rows]
    data["created_date"] = [DAY] * len(rows)
    for field in schema:  # flags the schema declares non-nullable
        if not field.nullable and pa.types.is_boolean(field.type):
            data[field.name] = [False] * len(rows)
    return pa.Table.from_pydict(data, schema=schema)


def files(root: Path) -> list[str]:
    """Published Parquet files (not the staging area)."""
    found = (str(p.relative_to(root)) for p in root.rglob("*.parquet"))
    return sorted(f for f in found if not f.startswith("_"))


def test_invite_tokens_never_reach_the_landing(tmp_path: Path) -> None:
    body = orjson.dumps(
        {"data": {"a": 1, "nested": [{"inviteToken": "inv_secret1"}]}, "inviteToken": "inv_secret2"}
    )
    store = RawStore(tmp_path)
    ref = store.land("abc", DAY, body)
    landed = store.read(ref)
    assert b"inv_secret" not in landed
    assert orjson.loads(landed) == {"data": {"a": 1, "nested": [{}]}}
    broken = b'{"data": {"inviteToken": "inv_secret3", "x": '
    assert b"inv_secret3" not in strip_invite_tokens(broken)
    plain = b'{"data": {"x": 1}}'
    assert strip_invite_tokens(plain) is plain


def test_unsafe_ids_become_hashed_file_names(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    ref = store.land("../../etc/passwd", DAY, b"{}")
    assert (
        ".." not in ref and (tmp_path / ref).parent == tmp_path / "results/created_date=2026-05-01"
    )
    assert safe_file_name("0b7c-4d_x") == "0b7c-4d_x"


@pytest.mark.parametrize("status", ["../../x", "x' OR '1'='1", "a/b", ".", ""])
def test_partition_values_stay_one_harmless_segment(status: str) -> None:
    value = partition_value(status)
    assert "/" not in value and ".." not in value and "'" not in value and value


def test_replace_date_moves_interviews_between_status_directories(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.replace_date(
        DAY, {"candidate_interviews": interviews(("a", "new_response"), ("b", "invite_sent"))}
    )
    assert files(tmp_path) == [
        "candidate_interviews/status=invite_sent/created_date=2026-05-01/part-0.parquet",
        "candidate_interviews/status=new_response/created_date=2026-05-01/part-0.parquet",
    ]
    store.replace_date(DAY, {"candidate_interviews": interviews(("a", "hired"), ("b", "hired"))})
    assert files(tmp_path) == [
        "candidate_interviews/status=hired/created_date=2026-05-01/part-0.parquet"
    ]
    table = pq.read_table(tmp_path / files(tmp_path)[0])
    assert sorted(table.column("candidate_interview_id").to_pylist()) == ["a", "b"]
    assert "status" not in table.column_names  # it is the directory, Hive style
    assert not (tmp_path / "candidate_interviews/status=new_response").exists()


def test_a_committed_swap_interrupted_midway_is_rolled_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ParquetStore(tmp_path)
    store.replace_date(DAY, {"candidate_interviews": interviews(("a", "new_response"))})
    calls = {"n": 0}
    original = store._apply

    def crash_after_commit(journal: dict) -> None:  # type: ignore[type-arg]
        calls["n"] += 1
        raise KeyboardInterrupt("killed after the journal was committed")

    monkeypatch.setattr(store, "_apply", crash_after_commit)
    with pytest.raises(KeyboardInterrupt):
        store.replace_date(DAY, {"candidate_interviews": interviews(("a", "hired"))})
    # Old data still complete; the journal is there.
    assert files(tmp_path) == [
        "candidate_interviews/status=new_response/created_date=2026-05-01/part-0.parquet"
    ]
    monkeypatch.setattr(store, "_apply", original)
    assert ParquetStore(tmp_path).recover() == 1
    assert files(tmp_path) == [
        "candidate_interviews/status=hired/created_date=2026-05-01/part-0.parquet"
    ]
    assert not (tmp_path / "_staging").exists()


def test_an_uncommitted_swap_leaves_old_data_and_is_dropped(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.replace_date(DAY, {"candidate_interviews": interviews(("a", "new_response"))})
    (tmp_path / "_staging/deadbeef/candidate_interviews").mkdir(parents=True)
    assert store.recover() == 0
    assert not (tmp_path / "_staging").exists()
    assert len(files(tmp_path)) == 1


def test_ledger_survives_reopen_and_keeps_latest_status(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    first = IndexRow("a", "c1", "i1", "invite_sent", T0, T0, DAY)
    with Ledger(path) as ledger:
        ledger.upsert_index([first], T0, "run-1", complete=True)
        ledger.record_run("run-1", T0, 1, 1)
        ledger.record_errors([LoadError("a", "parse", "bad", "ref")], T0)
    later = datetime(2026, 5, 3, tzinfo=UTC)
    with Ledger(path) as ledger:
        ledger.upsert_index(
            [IndexRow("a", "c1", "i1", "hired", T0, T0, DAY)], later, "run-2", complete=True
        )
        ledger.record_errors([LoadError("a", "parse", "still bad", "ref")], later)
        (row,) = ledger.index_rows(DAY, DAY)
        assert row.status == "hired" and row.created_at == T0 and row.deleted_at is None
        assert ledger.run_server_time("run-1") == T0
        assert ledger.run_listing("run-1") == (1, 1)
        (err,) = ledger.load_errors()
        assert err[:3] == ("a", "parse", "still bad") and err[4] == T0 and err[5] == later
        ledger.clear_errors(["a"], ("parse",))
        assert ledger.load_errors() == []
        assert ledger.status_history() == [
            ("a", "invite_sent", T0, T0),
            ("a", "hired", later, later),
        ]


def test_interviews_missing_from_a_complete_listing_are_flagged_not_dropped(
    tmp_path: Path,
) -> None:
    a, b = (IndexRow(i, None, None, "new_response", T0, T0, DAY) for i in "ab")
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        assert ledger.upsert_index([a, b], T0, "run-1", complete=True) == 0
        # The same clock on the next pass (a frozen sandbox): flagged all the same.
        assert ledger.upsert_index([a], T0, "run-2", complete=False) == 0  # partial: no verdict
        assert ledger.interview_count() == 2
        assert ledger.upsert_index([a], T0, "run-3", complete=True) == 1
        rows = {r.candidate_interview_id: r for r in ledger.index_rows(DAY, DAY)}
        assert rows["b"].deleted_at == T0 and rows["a"].deleted_at is None
        assert ledger.interview_count() == 1
        later = datetime(2026, 5, 4, tzinfo=UTC)
        ledger.upsert_index([a, b], later, "run-4", complete=True)  # it came back
        assert all(r.deleted_at is None for r in ledger.index_rows(DAY, DAY))


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT status FROM candidate_interviews").fetchall(), flush=True)
sys.stdin.readline()  # hold the file open until the test has published again
print(con.execute("SELECT status FROM candidate_interviews").fetchall(), flush=True)
"""


def test_publish_swaps_in_a_new_file_under_an_open_reader(tmp_path: Path) -> None:
    parquet = ParquetStore(tmp_path / "parquet")
    parquet.replace_date(DAY, {"candidate_interviews": interviews(("a", "new_response"))})
    first = publish_duckdb(tmp_path, tmp_path / "parquet")
    assert first.rows["candidate_interviews"] == 1 and first.rows["transcriptions"] == 0
    # An analyst in another process holds the database open, read-only, during the next publish.
    analyst = subprocess.Popen(
        [sys.executable, "-c", READER, str(first.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert analyst.stdout is not None and analyst.stdin is not None
    assert analyst.stdout.readline().strip() == "[('new_response',)]"
    parquet.replace_date(
        DAY, {"candidate_interviews": interviews(("a", "hired"), ("b", "x' OR '1'='1"))}
    )
    second = publish_duckdb(tmp_path, tmp_path / "parquet")
    # The analyst keeps querying their complete old state; a new connection sees the new one.
    out, _ = analyst.communicate("\n", timeout=60)
    assert out.strip() == "[('new_response',)]" and analyst.returncode == 0
    fresh = duckdb.connect(str(second.path), read_only=True)
    got = fresh.execute(
        "SELECT candidate_interview_id, status, created_date FROM candidate_interviews ORDER BY 1"
    ).fetchall()
    assert got == [("a", "hired", DAY), ("b", "x' OR '1'='1", DAY)]
    types = dict(
        fresh.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'candidate_interviews'"
        ).fetchall()
    )
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE" and types["created_date"] == "DATE"
    fresh.close()


def test_writers_of_one_warehouse_take_turns(tmp_path: Path) -> None:
    import threading
    import time

    from humanly_pipeline.layout import WarehouseLayout

    events: list[str] = []
    inside = threading.Event()

    def writer(name: str) -> None:
        with WarehouseLayout(tmp_path).write_lock():
            events.append(f"enter {name}")
            inside.set()
            time.sleep(0.2)  # long enough for the other writer to try to get in
            events.append(f"exit {name}")

    first = threading.Thread(target=writer, args=("a",))
    first.start()
    inside.wait(5)
    second = threading.Thread(target=writer, args=("b",))
    second.start()
    first.join(5)
    second.join(5)
    assert events == ["enter a", "exit a", "enter b", "exit b"]
