"""The modeled views of humanly.duckdb against the sandbox's ground truth.

One small warehouse is built per module by two real runs a virtual day apart (so that the
status history has interviews that moved). Every expected number is computed here from the
sandbox's own listing and results payloads, independently of the views' SQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from statistics import mean
from typing import Any

import pytest

from humanly_pipeline.flatten import parse_timestamp
from tests.helpers import Expected, expected, query, run, sandbox, window

pytestmark = pytest.mark.slow

INTERVIEWS = 300
DAYS = 10


@dataclass
class Built:
    warehouse: Path
    exp: Expected
    created: dict[str, datetime]
    invited: dict[str, datetime]
    interview_of: dict[str, str]
    first_status: dict[str, str]  # at the first run (absent: created after it)
    first_seen: datetime
    second_seen: datetime


@pytest.fixture(scope="module", name="b")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    warehouse = tmp_path_factory.mktemp("views") / "warehouse"
    warehouse.mkdir()
    with (
        sandbox(interviews=INTERVIEWS, seed=10, days=DAYS) as sb,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("HUMANLY_API_KEY", sb.api_key)
        start, end = window(sb, days=DAYS)
        first_status = {i["id"]: i["status"] for i in sb.store.listing()}
        first_seen = sb.now
        run(sb, warehouse, start, end)
        sb.advance(1)
        second_seen = sb.now
        run(sb, warehouse, start, sb.now.date())
        exp = expected(sb, start, sb.now.date())
        listing = sb.store.listing()
    created = {i["id"]: _ts(i["createdAt"]) for i in listing}
    invited = {i["id"]: _ts(i["inviteSentAt"]) for i in listing}
    interview_of = {i["id"]: i["interviewId"] for i in listing}
    yield Built(
        warehouse, exp, created, invited, interview_of, first_status, first_seen, second_seen
    )


def _ts(text: str) -> datetime:
    value = parse_timestamp(text)
    assert value is not None
    return value


def _facts(b: Built) -> dict[str, dict[str, Any]]:
    """interview_facts as the sandbox says it must be, one dict per interview."""
    questions: dict[str, set[str]] = defaultdict(set)
    for i, p in b.exp.results.items():
        questions[b.interview_of[i]].update(t["questionId"] for t in p["transcriptions"])
    facts: dict[str, dict[str, Any]] = {}
    for i, status in b.exp.status.items():
        p = b.exp.results.get(i)
        asked = len(p["transcriptions"]) if p else 0
        in_interview = len(questions[b.interview_of[i]]) or None
        ratings = [r["rating"] for r in p["ratings"]] if p else []
        question_scores = [s["score"] for s in p["scores"] if s["questionId"]] if p else []
        card = p["scoreCard"] if p else None
        taken = _ts(p["takenAt"]) if p else None
        archived_complete = asked > 0 and in_interview is not None and asked >= in_interview
        facts[i] = {
            "status": status,
            "created_date": b.created[i].date(),
            "hours_to_complete": (taken - b.invited[i]).total_seconds() / 3600 if taken else None,
            "questions_asked": asked,
            "questions_answered": sum(t["transcription"] is not None for t in p["transcriptions"])
            if p
            else 0,
            "questions_in_interview": in_interview,
            "mean_question_score": mean(question_scores) if question_scores else None,
            "scorecard_overall_score": float(card["overallScore"]) if card else None,
            "scorecard_evaluation_type": card["evaluationType"] if card else None,
            "ratings": len(ratings),
            "mean_rating": mean(ratings) if ratings else None,
            "summary_available": bool(
                p and p["summaryStatus"] == "complete" and p["summary"] is not None
            ),
            "responded": status in {"new_response", "has_reviewed", "partially_completed", "hired"}
            or (status == "archived" and asked > 0),
            "completed": status in {"new_response", "has_reviewed", "hired"}
            or (status == "archived" and archived_complete),
            "reviewed": status in {"has_reviewed", "hired"}
            or (status == "archived" and len(ratings) > 0),
        }
    return facts


def _close(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is want
    if isinstance(want, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    return bool(got == want)


def test_interview_facts_has_one_row_per_interview_with_the_sandbox_numbers(b: Built) -> None:
    want = _facts(b)
    columns = list(next(iter(want.values())))
    rows = query(
        b.warehouse, f"SELECT candidate_interview_id, {', '.join(columns)} FROM interview_facts"
    )
    assert len(rows) == len(want) == len({r[0] for r in rows})
    mismatches = [
        (row[0], column, got, want[row[0]][column])
        for row in rows
        for column, got in zip(columns, row[1:], strict=True)
        if not _close(got, want[row[0]][column])
    ]
    assert mismatches == []
    # The data must exercise every branch of the definitions, or the test proves little.
    statuses = {f["status"] for f in want.values()}
    assert {"archived", "partially_completed", "hired", "has_reviewed", "expired"} <= statuses
    archived = [f for f in want.values() if f["status"] == "archived"]
    assert {f["completed"] for f in archived} == {True, False}
    assert {f["reviewed"] for f in archived} == {True, False}


def test_funnel_daily_counts_each_stage_per_created_date(b: Built) -> None:
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in _facts(b).values():
        day = per_day[f["created_date"]]
        day["invited"] += 1
        day["responded"] += f["responded"]
        day["completed"] += f["completed"]
        day["partially_completed"] += f["responded"] and not f["completed"]
        day["expired"] += f["status"] == "expired"
        day["reviewed"] += f["reviewed"]
        day["hired"] += f["status"] == "hired"
        day["archived"] += f["status"] == "archived"
    stages = [
        "invited",
        "responded",
        "completed",
        "partially_completed",
        "expired",
        "reviewed",
        "hired",
        "archived",
    ]
    rows = query(
        b.warehouse,
        f"SELECT created_date, {', '.join(stages)}, response_rate, completion_rate, "
        "review_rate, hire_rate FROM funnel_daily ORDER BY created_date",
    )
    assert [r[0] for r in rows] == sorted(per_day)
    for row in rows:
        day = per_day[row[0]]
        assert dict(zip(stages, row[1:9], strict=True)) == {s: day[s] for s in stages}, row[0]
        rates = row[9:]
        want = (
            day["responded"] / day["invited"],
            day["completed"] / day["invited"],
            day["reviewed"] / day["completed"] if day["completed"] else None,
            day["hired"] / day["reviewed"] if day["reviewed"] else None,
        )
        assert all(_close(g, w) for g, w in zip(rates, want, strict=True)), (row[0], rates, want)
    assert sum(r[1] for r in rows) == len(b.exp.status)


def test_criterion_scores_summarise_every_score_card_criterion(b: Built) -> None:
    scores: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for p in b.exp.results.values():
        card = p["scoreCard"]
        for r in card["results"] if card else []:
            key = (card["name"], r["criterionId"], r["criterion"])
            scores[key].append((float(r["score"]), float(r["maxScore"])))
    rows = query(
        b.warehouse,
        "SELECT scorecard_name, criterion_id, criterion, results, mean_score, mean_score_pct, "
        "min_score, max_score, scores_0_20, scores_20_40, scores_40_60, scores_60_80, "
        "scores_80_100 FROM criterion_scores",
    )
    assert {r[:3] for r in rows} == set(scores)
    assert len(rows) == len(scores)
    for row in rows:
        values = scores[row[:3]]
        buckets = [0] * 5
        for score, top in values:
            buckets[min(max(math.ceil(score * 5 / top), 1), 5) - 1] += 1
        assert row[3] == len(values)
        assert math.isclose(row[4], mean(s for s, _ in values))
        assert math.isclose(row[5], mean(s / t for s, t in values))
        assert (row[6], row[7]) == (min(s for s, _ in values), max(s for s, _ in values))
        assert list(row[8:]) == buckets
    # The sandbox scores 1..5 of 5, so every bucket should be used somewhere.
    assert all(sum(r[8 + k] for r in rows) > 0 for k in range(5))


def test_time_in_status_follows_the_status_history_of_two_runs(b: Built) -> None:
    rows = query(
        b.warehouse,
        "SELECT candidate_interview_id, status, next_status, hours_in_status, is_current "
        "FROM time_in_status",
    )
    got = defaultdict(list)
    for i, status, next_status, hours, current in rows:
        got[i].append((status, next_status, hours, current))
    day = (b.second_seen - b.first_seen).total_seconds() / 3600
    assert set(got) == set(b.exp.status)
    moved = 0
    for i, now_status in b.exp.status.items():
        before = b.first_status.get(i)
        if before is None:  # created after the first run: seen once, just now
            want = [(now_status, None, 0.0, True)]
        elif before == now_status:  # seen twice in the same status: at least a day in it
            want = [(now_status, None, day, True)]
        else:
            moved += 1
            want = [(before, now_status, day, False), (now_status, None, 0.0, True)]
        have = sorted(got[i], key=lambda r: not r[1])  # the left status first
        assert len(have) == len(want), i
        for h, w in zip(have, want, strict=True):
            assert h[0:2] == w[0:2] and h[3] == w[3], (i, h, w)
            assert math.isclose(h[2], w[2], abs_tol=1 / 60), (i, h, w)  # within a minute
    assert moved > 0 and any(i not in b.first_status for i in b.exp.status)
