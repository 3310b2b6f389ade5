"""Issue 5's guarantees against the sandbox: quarantine and replay from raw, schema drift, status
history, soft deletes, blocking checks, and a fault-injection matrix compared with clean data."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from humanly_pipeline import steps
from humanly_pipeline.flatten import Flattened, RawResult, flatten
from humanly_pipeline.sandbox import Faults, Sandbox
from tests.helpers import (
    Expected,
    expected,
    query,
    results_requests,
    run,
    sandbox,
    window,
)
from tests.test_pipeline_e2e import assert_matches_sandbox, status_directories

pytestmark = pytest.mark.slow


def answered_with_results(sb: Sandbox, start: Any, end: Any, n: int) -> list[str]:
    exp = expected(sb, start, end)
    return sorted(exp.results)[:n]


def load_errors(warehouse: Path) -> dict[str, tuple[str, str | None]]:
    rows = query(warehouse, "SELECT candidate_interview_id, stage, raw_ref FROM load_errors")
    return {r[0]: (r[1], r[2]) for r in rows}


def test_unreadable_payloads_are_quarantined_and_a_mapping_fix_replays_them_from_raw(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An API variant our mapping does not know: some payloads send `transcriptions` as an
    # object keyed by question id instead of a list.
    with sandbox() as probe:
        start, end = window(probe)
        odd = set(answered_with_results(probe, start, end, 4))
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        original = sb.store.results

        def variant(candidate_interview_id: str) -> dict[str, Any] | None:
            payload = original(candidate_interview_id)
            if payload is not None and candidate_interview_id in odd:
                payload = dict(payload)
                payload["transcriptions"] = {t["questionId"]: t for t in payload["transcriptions"]}
            return payload

        monkeypatch.setattr(sb.store, "results", variant)
        summary = run(sb, warehouse, start, end)
        errors = load_errors(warehouse)
        assert set(errors) == odd and {stage for stage, _ in errors.values()} == {"shape"}
        for _, ref in errors.values():  # the quarantine points at the landed body
            assert ref is not None and (warehouse / "raw" / ref).exists()
        assert summary.checks["raw_results/fetch_outcomes"] is True
        monkeypatch.setattr(sb.store, "results", original)
        truth = expected(sb, start, end)
        got = query(warehouse, "SELECT DISTINCT candidate_interview_id FROM transcriptions")
        assert not odd & {r[0] for r in got}  # treated as empty, the rest of the payload kept
        scored = {r[0] for r in query(warehouse, "SELECT candidate_interview_id FROM summaries")}
        assert odd <= scored

        # The mapping fix: accept the object form. Replayed from raw with zero requests.
        def fixed(index_rows: Any, raws: dict[str, RawResult]) -> Flattened:
            return flatten(index_rows, {i: _listify(r) for i, r in raws.items()})

        monkeypatch.setattr(steps, "flatten", fixed)
        sb.reset_counts()
        replay = run(sb, warehouse, start, end, from_raw=True)
        assert sum(sum(v.values()) for v in sb.request_counts().values()) == 0
        assert replay.requests_total == 0
        assert load_errors(warehouse) == {}
        assert_matches_sandbox(warehouse, truth)


def _listify(raw: RawResult) -> RawResult:
    envelope = orjson.loads(raw.body)
    data = envelope["data"]
    if isinstance(data.get("transcriptions"), dict):
        data["transcriptions"] = list(data["transcriptions"].values())
    return RawResult(
        raw.candidate_interview_id, orjson.dumps(envelope), raw.fetched_at, raw.raw_ref
    )


def test_schema_drift_is_kept_reported_and_never_fatal(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults(extra_fields=True, numbers_as_strings=True, unknown_status_rate=0.1)
    with sandbox(faults=faults) as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb)
        summary = run(sb, warehouse, start, end)
        exp = expected(sb, start, end)
        assert "on_hold" in set(exp.status.values())
        assert_matches_sandbox(warehouse, exp)  # numbers sent as strings arrive as numbers
        assert summary.tables["new_fields"], "unknown fields are reported"
        assert summary.tables["coerced_values"], "coercions are counted"
        assert summary.checks["candidate_interviews/known_status_values"] is False  # a warning
        extras = query(warehouse, "SELECT _extra FROM candidate_interviews WHERE has_results")
        assert extras and all(e[0] is not None for e in extras)
        assert load_errors(warehouse) == {}


def test_status_history_keeps_every_status_an_interview_was_listed_in(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, _ = window(sb)
        first_time = sb.now
        before = expected(sb, start, sb.now.date()).status
        run(sb, warehouse, start, sb.now.date())
        sb.advance(2)
        second_time = sb.now
        after = expected(sb, start, sb.now.date()).status
        run(sb, warehouse, start, sb.now.date())
        history = query(
            warehouse,
            "SELECT candidate_interview_id, status, first_seen, last_seen FROM status_history",
        )
        want = {(i, s) for i, s in before.items()} | {(i, s) for i, s in after.items()}
        assert {(r[0], r[1]) for r in history} == want
        moved = {i for i in before if before[i] != after[i]}
        assert moved
        for i, status, first, last in history:
            if i in moved and status == after[i]:
                assert first == last == second_time
            elif i in moved:
                assert first == last == first_time
            elif i in before:
                assert (first, last) == (first_time, second_time)


def test_interviews_deleted_upstream_are_flagged_not_dropped(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb)
        run(sb, warehouse, start, end)
        gone = set(answered_with_results(sb, start, end, 3))
        sb.delete(sorted(gone))
        summary = run(sb, warehouse, start, end)
        assert summary.index["deleted"] == len(gone)
        rows = query(
            warehouse,
            "SELECT candidate_interview_id, is_deleted, deleted_at FROM candidate_interviews",
        )
        flagged = {r[0] for r in rows if r[1]}
        assert flagged == gone and all(r[2] == sb.now for r in rows if r[1])
        kept = query(
            warehouse,
            "SELECT count(DISTINCT candidate_interview_id) FROM summaries "
            "WHERE candidate_interview_id IN (SELECT candidate_interview_id "
            "FROM candidate_interviews WHERE is_deleted)",
        )
        assert kept[0][0] == len(gone)  # their last known rows stay
        assert summary.checks["interview_index/listed_total_matches_stored"] is True


def test_a_failed_blocking_check_keeps_the_previous_database(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb, days=3)
        run(sb, warehouse, start, end)
        before = query(warehouse, "SELECT count(*) FROM candidate_interviews")[0][0]
        # Corrupt a partition outside the next run's range: one interview twice.
        some = next((warehouse / "parquet/candidate_interviews").glob("status=*/*/part-0.parquet"))
        table = pq.read_table(some)
        pq.write_table(table.slice(0, 1), some.with_name("dup.parquet"))
        later_start = end
        from humanly_pipeline.runner import run_pipeline

        summary = run_pipeline(
            warehouse,
            later_start,
            end,
            base_url=sb.base_url,
            requests_per_hour=0,
            requests_per_minute=0,
        )
        assert not summary.success
        assert summary.checks["candidate_interviews/unique_candidate_interview_id"] is False
        assert query(warehouse, "SELECT count(*) FROM candidate_interviews")[0][0] == before


FAULTS = {
    "5xx": Faults(error_rate=0.2),
    "dropped connections": Faults(drop_rate=0.1),
    "slow responses": Faults(latency_ms=10, jitter_ms=60),
    "429 storms": Faults(burst_rate=0.02, burst_seconds=1),
    "malformed payloads": Faults(malformed_rate=0.05),
    "page drift": Faults(page_drift=3),
    "unknown fields and statuses, numbers as strings": Faults(
        extra_fields=True, numbers_as_strings=True, unknown_status_rate=0.05
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_under_each_fault_nothing_is_lost_or_duplicated(
    name: str, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox(faults=FAULTS[name]) as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb)
        listable = set(expected(sb, start, end).status)
        summary = run(sb, warehouse, start, end)
        exp = expected(sb, start, end)  # after the run: drift may have added interviews
        bad = {i for i in exp.results if sb.dice.malformed(i)}
        assert (bad != set()) == (name == "malformed payloads")
        ids = [
            r[0]
            for r in query(warehouse, "SELECT candidate_interview_id FROM candidate_interviews")
        ]
        assert len(ids) == len(set(ids))  # none duplicated
        # None lost: every interview that existed when the run began is there; interviews
        # created while it listed (page drift) are there or wait for the next run's listing.
        assert listable <= set(ids) <= set(exp.status)
        if name != "page drift":
            assert set(ids) == set(exp.status)
        loaded = Expected(
            {i: s for i, s in exp.status.items() if i in set(ids)},
            {i: p for i, p in exp.results.items() if i in set(ids) and i not in bad},
        )
        assert_matches_sandbox(warehouse, loaded)
        assert set(load_errors(warehouse)) == bad  # the quarantined ones, listed
        quarantined = {
            r[0]
            for r in query(
                warehouse,
                "SELECT candidate_interview_id FROM candidate_interviews WHERE results_quarantined",
            )
        }
        assert quarantined == bad
        assert all(n == 1 for n in status_directories(warehouse).values())
        if name == "page drift":
            assert summary.index["relisted"] is True
        if name == "429 storms":
            assert summary.rate_limited > 0
        assert results_requests(sb) >= len(exp.answered)
        assert math.isfinite(summary.seconds)


def test_hostile_strings_from_the_api_land_safely(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = ["../../x", "x' OR '1'='1", "a/b\\\\c", "..", "status=new_response"]
    with sandbox() as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb)
        victims = sorted(expected(sb, start, end).status)[: len(hostile)]
        chosen = dict(zip(victims, hostile, strict=True))
        store = sb.store
        original = store.status_of

        def status_of(story: Any, t: int | None = None) -> str:
            ident = store.id_of(story.key)
            return chosen.get(ident) or original(story, t)

        monkeypatch.setattr(store, "status_of", status_of)
        run(sb, warehouse, start, end)
        got = dict(
            query(warehouse, "SELECT candidate_interview_id, status FROM candidate_interviews")
        )
        assert {i: got[i] for i in victims} == chosen
        tables = {
            r[0] for r in query(warehouse, "SELECT table_name FROM information_schema.tables")
        }
        assert "candidate_interviews" in tables  # nothing dropped by an injected quote
        for path in warehouse.rglob("*"):
            assert ".." not in path.relative_to(warehouse).parts
        outside = {p.name for p in tmp_path.iterdir()}
        assert outside == {"warehouse"}, "nothing was written outside the warehouse"
        counts = Counter(status_directories(warehouse))
        assert all(n == 1 for n in counts.values())


def test_numbers_as_strings_reach_the_warehouse_as_numbers(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox(faults=Faults(numbers_as_strings=True)) as sb:
        monkeypatch.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb)
        run(sb, warehouse, start, end)
        schema = {
            r[0]: r[1]
            for r in query(
                warehouse,
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'scores'",
            )
        }
        assert schema["score"] == "DOUBLE"
        assert query(warehouse, "SELECT count(*) FROM scores WHERE score IS NULL")[0][0] == sum(
            1
            for p in expected(sb, start, end).results.values()
            for s in p["scores"]
            if s["score"] is None
        )
