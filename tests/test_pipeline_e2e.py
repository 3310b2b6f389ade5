"""End to end: real Dagster runs against the sandbox over HTTP, asserting on warehouse data and
on the requests the sandbox counted."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from humanly_pipeline.flatten import parse_timestamp
from tests.helpers import (
    Expected,
    assert_same_rows,
    expected,
    listing_requests,
    query,
    read_tables,
    results_requests,
    run,
    run_args,
    sandbox,
    sandbox_env,
    window,
)

pytestmark = pytest.mark.slow


def assert_matches_sandbox(warehouse: Path, exp: Expected) -> None:
    """candidate_interviews holds each interview once with its status; every child table holds
    exactly the rows of the sandbox's payloads."""
    rows = query(warehouse, "SELECT candidate_interview_id, status FROM candidate_interviews")
    assert len(rows) == len(exp.status)
    assert dict(rows) == exp.status
    got = query(
        warehouse,
        "SELECT candidate_interview_id, question_id, ordinal, transcription FROM transcriptions",
    )
    want = [
        (i, t["questionId"], t["ordinal"], t["transcription"])
        for i, p in exp.results.items()
        for t in p["transcriptions"]
    ]
    assert_same_rows(got, want)
    got = query(warehouse, "SELECT candidate_interview_id, question_id, score, source FROM scores")
    want = [
        (i, s["questionId"], float(s["score"]), s["source"])
        for i, p in exp.results.items()
        for s in p["scores"]
    ]
    assert_same_rows(got, want)
    got = query(warehouse, "SELECT candidate_interview_id, user_id, rating, comment FROM ratings")
    want = [
        (i, r["userId"], float(r["rating"]), r["comment"])
        for i, p in exp.results.items()
        for r in p["ratings"]
    ]
    assert_same_rows(got, want)
    got = query(warehouse, "SELECT candidate_interview_id, summary_status, summary FROM summaries")
    want = [(i, p["summaryStatus"], p["summary"]) for i, p in exp.results.items()]
    assert_same_rows(got, want)
    got = query(
        warehouse,
        "SELECT candidate_interview_id, scorecard_id, evaluation_type, overall_score "
        "FROM scorecards",
    )
    want = [
        (i, c["id"], c["evaluationType"], float(c["overallScore"]))
        for i, p in exp.results.items()
        if (c := p["scoreCard"])
    ]
    assert_same_rows(got, want)
    got = query(
        warehouse, "SELECT candidate_interview_id, criterion_id, score FROM scorecard_results"
    )
    want = [
        (i, r["criterionId"], float(r["score"]))
        for i, p in exp.results.items()
        if (c := p["scoreCard"])
        for r in c["results"]
    ]
    assert_same_rows(got, want)
    taken = dict(
        query(warehouse, "SELECT candidate_interview_id, taken_at FROM candidate_interviews")
    )
    for i, p in exp.results.items():
        assert taken[i] == parse_timestamp(p["takenAt"])


def status_directories(warehouse: Path) -> Counter[str]:
    """How many status directories each interview appears in, over the Parquet files."""
    seen: Counter[str] = Counter()
    for f in (warehouse / "parquet" / "candidate_interviews").glob("status=*/*/*.parquet"):
        seen.update(pq.read_table(f, columns=["candidate_interview_id"]).column(0).to_pylist())
    return seen


def test_first_run_loads_every_interview_once_and_matches_the_payloads(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb, days=4)  # part of the sandbox's history is out of range
        exp = expected(sb, start, end)
        assert 0 < len(exp.status) < sb.store.total()
        assert {"invite_sent", "has_reviewed"} <= set(exp.status.values())
        summary = run(sb, warehouse, start, end)
        assert_matches_sandbox(warehouse, exp)
        # One listing pass at the maximum page size, one results request per answered interview
        # in range, none for invites nobody answered.
        assert listing_requests(sb) == math.ceil(sb.store.total() / 100)
        assert results_requests(sb) == len(exp.answered)
        assert summary.results_requests == len(exp.answered)
        assert summary.rows["candidate_interviews"] == len(exp.status)
        assert all(n == 1 for n in status_directories(warehouse).values())


def test_a_second_run_with_no_change_spends_no_results_request_and_changes_nothing(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb)
        run(sb, warehouse, start, end)
        before = read_tables(warehouse)
        sb.reset_counts()
        summary = run(sb, warehouse, start, end)
        assert results_requests(sb) == 0
        assert listing_requests(sb) == math.ceil(sb.store.total() / 100)
        assert summary.fetch["planned"] == 0
        assert read_tables(warehouse) == before


def ledger_rows(warehouse: Path) -> dict[str, tuple[str, bool, str | None]]:
    con = sqlite3.connect(warehouse / "state" / "ledger.sqlite")
    try:
        rows = con.execute(
            "SELECT candidate_interview_id, status_at_fetch, pending, next_poll_at FROM fetches"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: (r[1], bool(r[2]), r[3]) for r in rows}


def test_after_a_day_only_new_changed_and_pending_interviews_are_fetched(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, _ = window(sb)
        run(sb, warehouse, start, sb.now.date())
        fetched_before = ledger_rows(warehouse)
        sb.advance(1)
        sb.reset_counts()
        end = sb.now.date()
        exp = expected(sb, start, end)
        now = sb.now
        new = {i for i in exp.answered if i not in fetched_before}
        changed = {
            i for i in exp.answered if i in fetched_before and fetched_before[i][0] != exp.status[i]
        }
        pending = {
            i
            for i in exp.answered
            if i in fetched_before
            and fetched_before[i][1]
            and fetched_before[i][2] is not None
            and datetime.fromisoformat(fetched_before[i][2]) <= now
        }
        assert new and changed and pending, "the sandbox day should bring all three kinds"
        summary = run(sb, warehouse, start, end)
        assert results_requests(sb) == len(new | changed | pending)
        assert summary.fetch["fetch_reasons"]["new"] == len(new)
        assert summary.fetch["fetch_reasons"]["status_changed"] == len(changed)
        assert_matches_sandbox(warehouse, exp)
        dirs = status_directories(warehouse)
        assert set(dirs) == set(exp.status) and all(n == 1 for n in dirs.values())


def test_a_backfill_of_weeks_is_one_run_with_one_listing_pass(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import AssetKey, instance_for_test

    from humanly_pipeline.definitions import defs
    from humanly_pipeline.partitions import dates_between, partition_key
    from humanly_pipeline.schedules import range_tags

    with sandbox(days=21) as sb, instance_for_test() as instance:
        for name, value in sandbox_env(sb, warehouse).items():
            monkeypatch.setenv(name, value)
        start, end = window(sb, days=21)
        job = defs.resolve_job_def("humanly_nightly")
        result = job.execute_in_process(instance=instance, tags=range_tags(start, end))
        assert result.success
        assert len(instance.get_runs()) == 1
        assert listing_requests(sb) == math.ceil(sb.store.total() / 100)
        days = {partition_key(d) for d in dates_between(start, end)}
        for asset in ("interview_index", "raw_results", "transcriptions", "humanly_duckdb"):
            assert instance.get_materialized_partitions(AssetKey(asset)) == days
        assert_matches_sandbox(warehouse, expected(sb, start, end))


ANALYST = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
q = "SELECT count(*) FROM candidate_interviews"
print(con.execute(q).fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute(q).fetchone()[0], flush=True)
"""


def test_an_analyst_holding_the_database_open_never_blocks_a_run(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, _ = window(sb)
        run(sb, warehouse, start, sb.now.date())
        before = query(warehouse, "SELECT count(*) FROM candidate_interviews")[0][0]
        analyst = subprocess.Popen(
            [sys.executable, "-c", ANALYST, str(warehouse / "humanly.duckdb")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert analyst.stdout is not None
        assert int(analyst.stdout.readline()) == before
        sb.advance(2)  # new interviews get created
        exp = expected(sb, start, sb.now.date())
        run(sb, warehouse, start, sb.now.date())
        out, _ = analyst.communicate("\n", timeout=60)
        assert analyst.returncode == 0 and int(out) == before  # still their consistent view
        assert (
            query(warehouse, "SELECT count(*) FROM candidate_interviews")[0][0]
            == len(exp.status)
            > before
        )


def test_a_run_killed_during_the_fan_out_resumes_without_refetching(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from humanly_pipeline.sandbox import Faults

    with sandbox(faults=Faults(latency_ms=40)) as sb:
        start, end = window(sb)
        exp = expected(sb, start, end)
        env = {**sandbox_env(sb), "HUMANLY_CONCURRENCY": "2", "PATH": "/usr/bin:/bin"}
        cli = Path(sys.executable).with_name("humanly-pipeline")
        proc = subprocess.Popen(
            [str(cli), *run_args(warehouse, start, end, "--quiet")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        landed = _wait_for_landed(warehouse, at_least=len(exp.answered) // 3, proc=proc)
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait()
        landed = set(ledger_rows(warehouse))
        assert 0 < len(landed) < len(exp.answered)
        sb.reset_counts()
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        run(sb, warehouse, start, end)
        # Nothing already landed is paid for again.
        assert results_requests(sb) == len(exp.answered - landed)
        reference = tmp_path / "reference"
        run(sb, reference, start, end)
        assert read_tables(warehouse) == read_tables(reference)
        assert_matches_sandbox(warehouse, exp)


def _wait_for_landed(warehouse: Path, at_least: int, proc: Any) -> int:
    import time

    ledger = warehouse / "state" / "ledger.sqlite"
    for _ in range(1200):
        if proc.poll() is not None:
            raise AssertionError("the run finished before it could be killed")
        if ledger.exists():
            try:
                count = len(ledger_rows(warehouse))
            except sqlite3.OperationalError:
                count = 0
            if count >= at_least:
                return count
        time.sleep(0.05)
    raise AssertionError("the run never landed enough payloads")


def test_a_request_cap_stops_cleanly_and_the_next_run_finishes_the_rest(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb)
        exp = expected(sb, start, end)
        capped = run(sb, warehouse, start, end, max_requests=25)
        assert results_requests(sb) == 25
        assert capped.fetch["not_attempted"] == len(exp.answered) - 25
        sb.reset_counts()
        run(sb, warehouse, start, end)
        assert results_requests(sb) == len(exp.answered) - 25  # nothing paid twice
        assert_matches_sandbox(warehouse, exp)
