"""Example-based tests of humanly_pipeline.flatten and humanly_pipeline.schemas.

Payloads are built here in the *assumed* results shape (humanly-api.md); each test asserts on
exact row values, not on "it ran".
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pyarrow as pa
import pytest

from humanly_pipeline import schemas
from humanly_pipeline.flatten import (
    Flattened,
    IndexRow,
    LoadError,
    RawResult,
    flatten,
    parse_index_item,
    parse_timestamp,
)

FETCHED = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
SECRET = "tok_SUPER_SECRET_123"


# -- helpers -------------------------------------------------------------------------------------


def index_row(
    cid: str, status: str = "has_reviewed", created: str = "2024-03-01T10:00:00Z"
) -> IndexRow:
    return parse_index_item(
        {
            "id": cid,
            "candidateId": f"cand-{cid}",
            "interviewId": f"int-{cid}",
            "status": status,
            "inviteSentAt": "2024-03-01T10:05:00.000Z",
            "createdAt": created,
        }
    )


def transcription(i: int, **over: Any) -> dict[str, Any]:
    t = {
        "questionId": f"q{i}",
        "questionTitle": f"Question {i}?",
        "ordinal": i,
        "transcription": f"answer {i}",
        "durationSeconds": 10.5 + i,
        "language": "en",
        "confidence": 0.9,
        "audioUrl": f"https://audio.example/{i}.mp3",
    }
    t.update(over)
    return t


def payload(cid: str, **over: Any) -> dict[str, Any]:
    """A full `data` object in the assumed shape."""
    data: dict[str, Any] = {
        "candidateInterviewId": cid,
        "candidateId": f"cand-{cid}",
        "interviewId": f"int-{cid}",
        "status": "new_response",
        "takenAt": "2024-03-02T17:21:09Z",
        "transcriptions": [transcription(1), transcription(2)],
        "scores": [
            {"questionId": "q1", "score": 4, "maxScore": 5, "source": "ai"},
            {"questionId": None, "score": 3.5, "maxScore": 5, "source": "manual"},
        ],
        "ratings": [
            {
                "userId": "u1",
                "rating": 5,
                "maxRating": 5,
                "comment": None,
                "createdAt": "2024-03-03T08:00:00.000Z",
            }
        ],
        "summary": "Strong candidate.",
        "summaryStatus": "complete",
        "scoreCard": {
            "id": "sc1",
            "name": "Default",
            "evaluationType": "hybrid",
            "overallScore": 3.7,
            "maxScore": 5,
            "evaluatedAt": "2024-03-03T09:00:00+00:00",
            "results": [
                {
                    "criterionId": "c1",
                    "criterion": "Communication",
                    "score": 4,
                    "maxScore": 5,
                    "weight": 0.4,
                    "rationale": "Clear.",
                },
                {
                    "criterionId": "c2",
                    "criterion": "Experience",
                    "score": 3,
                    "maxScore": 5,
                    "weight": 0.6,
                    "rationale": None,
                },
            ],
        },
    }
    data.update(over)
    return data


def raw(cid: str, data: Any = None, *, body: bytes | None = None) -> RawResult:
    if body is None:
        body = orjson.dumps({"data": data, "meta": {"requestId": "r1", "timestamp": "x"}})
    return RawResult(cid, body, FETCHED, f"raw/{cid}.json")


def run(rows: list[IndexRow], raws: list[RawResult]) -> Flattened:
    out = flatten(rows, {r.candidate_interview_id: r for r in raws})
    assert list(out.tables) == list(schemas.TABLES)
    for name, table in out.tables.items():
        assert table.schema.equals(schemas.TABLES[name], check_metadata=True), name
    return out


def col(out: Flattened, table: str, column: str) -> list[Any]:
    return out.tables[table].column(column).to_pylist()


def rows_of(out: Flattened, table: str) -> list[dict[str, Any]]:
    return out.tables[table].to_pylist()


# -- schemas ---------------------------------------------------------------------------------------


def test_schemas_cover_the_contract_and_describe_every_column() -> None:
    required = {
        "candidate_interviews": [
            "candidate_interview_id", "candidate_id", "interview_id", "status", "created_at",
            "invite_sent_at", "taken_at", "created_date", "has_results", "summary_status",
            "_extracted_at", "_extra",
        ],
        "transcriptions": [
            "candidate_interview_id", "question_id", "ordinal", "question_title", "transcription",
            "duration_seconds", "language", "confidence", "audio_url", "position",
        ],
        "scores": [
            "candidate_interview_id", "question_id", "score", "max_score", "source", "position",
        ],
        "ratings": [
            "candidate_interview_id", "user_id", "rating", "max_rating", "comment", "rated_at",
            "position",
        ],
        "summaries": ["candidate_interview_id", "summary_status", "summary"],
        "scorecards": [
            "candidate_interview_id", "scorecard_id", "scorecard_name", "evaluation_type",
            "overall_score", "max_score", "evaluated_at",
        ],
        "scorecard_results": [
            "candidate_interview_id", "scorecard_id", "criterion_id", "criterion", "score",
            "max_score", "weight", "rationale", "position",
        ],
    }  # fmt: skip
    assert list(schemas.TABLES) == list(required)
    ts = pa.timestamp("us", tz="UTC")
    for name, cols in required.items():
        schema = schemas.TABLES[name]
        assert {*cols, "status", "created_date", "_extracted_at"} <= set(schema.names)
        assert schema.field("status").type == pa.string()
        assert schema.field("created_date").type == pa.date32()
        assert schema.field("_extracted_at").type == ts
        for f in schema:
            assert f.metadata and f.metadata[b"description"].strip(), (name, f.name)
            if f.name in ("ordinal", "position"):
                assert f.type == pa.int32()
            if f.name.endswith(("score", "rating", "weight", "seconds", "confidence")):
                assert f.type == pa.float64(), (name, f.name)
            if f.name.endswith("_at"):
                assert f.type == ts, (name, f.name)
    assert schemas.LOAD_ERRORS_SCHEMA.names == [
        "candidate_interview_id", "stage", "error", "raw_ref", "first_seen", "last_seen",
    ]  # fmt: skip
    assert schemas.LOAD_ERRORS_SCHEMA.field("first_seen").type == ts
    assert schemas.PARTITION_COLUMNS == ("status", "created_date")
    assert "invite_sent" in schemas.KNOWN_STATUSES and "hired" in schemas.KNOWN_STATUSES
    assert set(schemas.SUMMARY_STATUSES) == {
        "pre-summary-feature",
        "processing",
        "complete",
        "error",
    }
    assert set(schemas.EVALUATION_TYPES) == {"ai_generated", "manual", "hybrid"}
    assert schemas.describe(schemas.SCORES)["score"] == "Score given."


# -- timestamps and index items --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.000Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.123456Z", datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-01T00:00:00+00:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T02:30:00+02:30", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2023-12-31T22:00:00-02:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),  # naive means UTC
        (" 2024-01-01T00:00:00Z ", datetime(2024, 1, 1, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("yesterday", None),
        ("2024-13-01T00:00:00Z", None),
        (1704067200, None),
        (True, None),
        ({"a": 1}, None),
        ("2024-01-01T00:00:00Z" + "0" * 100, None),
    ],
)
def test_parse_timestamp(text: Any, expected: datetime | None) -> None:
    got = parse_timestamp(text)
    assert got == expected
    if got is not None:
        assert got.utcoffset() is not None and got.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_parse_index_item() -> None:
    row = parse_index_item(
        {
            "id": "ci-1",
            "candidateId": "cand",
            "interviewId": "int",
            "status": "new_response",
            "inviteSentAt": None,
            "createdAt": "2024-03-01T23:30:00-02:00",  # 01:30 UTC on the 2nd
        }
    )
    assert row == IndexRow(
        "ci-1", "cand", "int", "new_response",
        datetime(2024, 3, 2, 1, 30, tzinfo=UTC), None, date(2024, 3, 2),
    )  # fmt: skip
    # Missing status still lands in a partition.
    assert parse_index_item({"id": "x", "createdAt": "2024-01-01T00:00:00Z"}).status == "unknown"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"createdAt": "2024-01-01T00:00:00Z"}, "no usable 'id'"),
        ({"id": "", "createdAt": "2024-01-01T00:00:00Z"}, "no usable 'id'"),
        ({"id": ["x"], "createdAt": "2024-01-01T00:00:00Z"}, "no usable 'id'"),
        ({"id": "x"}, "no usable 'createdAt'"),
        ({"id": "x", "createdAt": "soon"}, "no usable 'createdAt'"),
        ("not a dict", "expected an object"),
    ],
)
def test_parse_index_item_rejects_unusable_items(item: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_index_item(item)


# -- the happy path --------------------------------------------------------------------------------


def test_full_payload_flattens_to_exact_rows() -> None:
    out = run([index_row("ci-1")], [raw("ci-1", payload("ci-1"))])
    assert out.errors == [] and out.new_fields == {} and out.coerced == {}
    assert {n: t.num_rows for n, t in out.tables.items()} == {
        "candidate_interviews": 1,
        "transcriptions": 2,
        "scores": 2,
        "ratings": 1,
        "summaries": 1,
        "scorecards": 1,
        "scorecard_results": 2,
    }
    common = {"status": "has_reviewed", "created_date": date(2024, 3, 1), "_extracted_at": FETCHED}
    assert rows_of(out, "candidate_interviews") == [
        {
            "candidate_interview_id": "ci-1",
            "candidate_id": "cand-ci-1",
            "interview_id": "int-ci-1",
            "created_at": datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
            "invite_sent_at": datetime(2024, 3, 1, 10, 5, tzinfo=UTC),
            "taken_at": datetime(2024, 3, 2, 17, 21, 9, tzinfo=UTC),
            "has_results": True,
            "results_quarantined": False,
            "has_scorecard": True,
            "summary_status": "complete",
            "results_status": "new_response",
            "is_deleted": False,
            "deleted_at": None,
            "_extra": None,
            **common,
        }
    ]
    assert rows_of(out, "transcriptions")[1] == {
        "candidate_interview_id": "ci-1",
        "question_id": "q2",
        "ordinal": 2,
        "question_title": "Question 2?",
        "transcription": "answer 2",
        "duration_seconds": 12.5,
        "language": "en",
        "confidence": 0.9,
        "audio_url": "https://audio.example/2.mp3",
        "position": 1,
        **common,
    }
    assert rows_of(out, "scores") == [
        {"candidate_interview_id": "ci-1", "question_id": "q1", "score": 4.0, "max_score": 5.0,
         "source": "ai", "position": 0, **common},
        {"candidate_interview_id": "ci-1", "question_id": None, "score": 3.5, "max_score": 5.0,
         "source": "manual", "position": 1, **common},
    ]  # fmt: skip
    assert rows_of(out, "ratings") == [
        {"candidate_interview_id": "ci-1", "user_id": "u1", "rating": 5.0, "max_rating": 5.0,
         "comment": None, "rated_at": datetime(2024, 3, 3, 8, tzinfo=UTC), "position": 0,
         **common},
    ]  # fmt: skip
    assert rows_of(out, "summaries") == [
        {"candidate_interview_id": "ci-1", "summary_status": "complete",
         "summary": "Strong candidate.", **common},
    ]  # fmt: skip
    assert rows_of(out, "scorecards") == [
        {"candidate_interview_id": "ci-1", "scorecard_id": "sc1", "scorecard_name": "Default",
         "evaluation_type": "hybrid", "overall_score": 3.7, "max_score": 5.0,
         "evaluated_at": datetime(2024, 3, 3, 9, tzinfo=UTC), **common},
    ]  # fmt: skip
    assert rows_of(out, "scorecard_results") == [
        {"candidate_interview_id": "ci-1", "scorecard_id": "sc1", "criterion_id": "c1",
         "criterion": "Communication", "score": 4.0, "max_score": 5.0, "weight": 0.4,
         "rationale": "Clear.", "position": 0, **common},
        {"candidate_interview_id": "ci-1", "scorecard_id": "sc1", "criterion_id": "c2",
         "criterion": "Experience", "score": 3.0, "max_score": 5.0, "weight": 0.6,
         "rationale": None, "position": 1, **common},
    ]  # fmt: skip


def test_index_is_the_truth_for_status_and_created_date_in_every_table() -> None:
    # The payload says new_response; the listing (later) says hired.
    row = index_row("ci-1", status="hired", created="2024-02-29T23:59:59-01:00")
    out = run([row], [raw("ci-1", payload("ci-1", status="new_response"))])
    for name, table in out.tables.items():
        assert table.num_rows > 0, name
        assert set(table.column("status").to_pylist()) == {"hired"}, name
        assert set(table.column("created_date").to_pylist()) == {date(2024, 3, 1)}, name
    assert col(out, "candidate_interviews", "results_status") == ["new_response"]


def test_interviews_without_results_and_deterministic_order() -> None:
    rows = [index_row("b"), index_row("c", status="invite_sent"), index_row("a")]
    raws = [raw("b", payload("b")), raw("a", payload("a", transcriptions=[transcription(7)]))]
    out = run(rows, raws)
    assert col(out, "candidate_interviews", "candidate_interview_id") == ["a", "b", "c"]
    assert col(out, "candidate_interviews", "has_results") == [True, True, False]
    assert col(out, "candidate_interviews", "_extracted_at") == [FETCHED, FETCHED, None]
    assert col(out, "candidate_interviews", "taken_at")[2] is None
    assert col(out, "candidate_interviews", "summary_status") == ["complete", "complete", None]
    assert col(out, "transcriptions", "candidate_interview_id") == ["a", "b", "b"]
    assert col(out, "transcriptions", "ordinal") == [7, 1, 2]
    assert col(out, "transcriptions", "position") == [0, 0, 1]
    assert col(out, "summaries", "candidate_interview_id") == ["a", "b"]
    # Same input in another order: identical tables.
    again = run(list(reversed(rows)), list(reversed(raws)))
    for name in schemas.TABLES:
        assert again.tables[name].equals(out.tables[name]), name


def test_raws_for_ids_not_in_the_index_are_ignored() -> None:
    out = run([index_row("a")], [raw("a", payload("a")), raw("zzz", payload("zzz"))])
    assert out.ignored_raws == 1
    for table in out.tables.values():
        assert set(table.column("candidate_interview_id").to_pylist()) == {"a"}


def test_duplicate_index_rows_keep_the_last() -> None:
    out = run([index_row("a", status="new_response"), index_row("a", status="hired")], [])
    assert col(out, "candidate_interviews", "status") == ["hired"]


def test_empty_input_gives_empty_tables_with_schemas() -> None:
    out = run([], [])
    assert all(t.num_rows == 0 for t in out.tables.values())
    assert out.errors == [] and out.ignored_raws == 0


def test_index_fills_nothing_the_payload_can_fill_only_when_missing() -> None:
    row = parse_index_item(
        {"id": "a", "status": "new_response", "createdAt": "2024-03-01T00:00:00Z"}
    )
    out = run([row], [raw("a", payload("a"))])
    assert col(out, "candidate_interviews", "candidate_id") == ["cand-a"]
    assert col(out, "candidate_interviews", "interview_id") == ["int-a"]


# -- results present but empty / partial ----------------------------------------------------------


def test_200_with_empty_arrays_gives_no_child_rows_and_no_error() -> None:
    data = payload(
        "a", transcriptions=[], scores=[], ratings=[], summary=None,
        summaryStatus="processing", scoreCard=None,
    )  # fmt: skip
    out = run([index_row("a")], [raw("a", data)])
    assert out.errors == [] and out.coerced == {} and out.new_fields == {}
    counts = {n: t.num_rows for n, t in out.tables.items()}
    assert counts == {
        "candidate_interviews": 1, "transcriptions": 0, "scores": 0, "ratings": 0,
        "summaries": 1, "scorecards": 0, "scorecard_results": 0,
    }  # fmt: skip
    assert rows_of(out, "summaries")[0]["summary"] is None
    ci = rows_of(out, "candidate_interviews")[0]
    assert ci["has_results"] is True and ci["has_scorecard"] is False
    assert ci["summary_status"] == "processing"


def test_minimal_payload_with_every_field_missing() -> None:
    out = run([index_row("a")], [raw("a", {})])
    assert out.errors == []
    ci = rows_of(out, "candidate_interviews")[0]
    assert ci["has_results"] is True and ci["taken_at"] is None and ci["_extra"] is None
    assert ci["candidate_id"] == "cand-a"  # from the index
    assert rows_of(out, "summaries")[0]["summary_status"] is None
    assert out.tables["transcriptions"].num_rows == 0


def test_missing_and_null_fields_inside_elements_become_null() -> None:
    data = payload(
        "a",
        transcriptions=[
            {"questionId": "q1"},
            transcription(2, transcription=None, confidence=None),
        ],
        scoreCard={"id": "sc", "results": [{"criterion": "Grit"}]},
    )
    out = run([index_row("a")], [raw("a", data)])
    assert out.errors == [] and out.coerced == {}
    first = rows_of(out, "transcriptions")[0]
    assert first["question_id"] == "q1"
    unset = ("ordinal", "question_title", "transcription", "duration_seconds", "language")
    assert all(first[k] is None for k in (*unset, "confidence", "audio_url"))
    assert col(out, "transcriptions", "transcription") == [None, None]
    assert col(out, "transcriptions", "duration_seconds") == [None, 12.5]
    assert rows_of(out, "scorecards")[0]["scorecard_name"] is None
    assert rows_of(out, "scorecard_results")[0]["criterion"] == "Grit"
    assert rows_of(out, "scorecard_results")[0]["scorecard_id"] == "sc"


# -- coercion -------------------------------------------------------------------------------------


def test_numbers_as_strings_are_coerced_and_counted() -> None:
    data = payload(
        "a",
        transcriptions=[transcription(1, ordinal="3", durationSeconds=" 74.5 ", confidence="0.5")],
        scores=[{"score": "4", "maxScore": "5"}, {"score": "3.5", "maxScore": 5.0}],
        ratings=[{"rating": "n/a", "maxRating": "five", "createdAt": "last week"}],
    )
    data["scoreCard"]["results"][0]["weight"] = "0.25"
    data["scoreCard"]["overallScore"] = "3.9"
    out = run([index_row("a")], [raw("a", data)])
    assert col(out, "transcriptions", "ordinal") == [3]
    assert col(out, "transcriptions", "duration_seconds") == [74.5]
    assert col(out, "transcriptions", "confidence") == [0.5]
    assert col(out, "scores", "score") == [4.0, 3.5]
    assert col(out, "scores", "max_score") == [5.0, 5.0]
    assert col(out, "ratings", "rating") == [None]
    assert col(out, "ratings", "max_rating") == [None]
    assert col(out, "ratings", "rated_at") == [None]
    assert col(out, "scorecard_results", "weight") == [0.25, 0.6]
    assert col(out, "scorecards", "overall_score") == [3.9]
    assert out.coerced == {
        "ratings[].createdAt:nulled": 1,
        "ratings[].maxRating:nulled": 1,
        "ratings[].rating:nulled": 1,
        "scoreCard.overallScore": 1,
        "scoreCard.results[].weight": 1,
        "scores[].maxScore": 1,
        "scores[].score": 2,
        "transcriptions[].confidence": 1,
        "transcriptions[].durationSeconds": 1,
        "transcriptions[].ordinal": 1,
    }
    assert out.errors == []


@pytest.mark.parametrize(
    ("value", "expected", "counter"),
    [
        (True, None, "scores[].score:nulled"),  # Arrow would silently make this 1.0
        ("NaN", None, "scores[].score:nulled"),
        ("inf", None, "scores[].score:nulled"),
        ("1_000", None, "scores[].score:nulled"),
        ({"v": 4}, None, "scores[].score:nulled"),
        ([4], None, "scores[].score:nulled"),
        ("", None, "scores[].score:nulled"),
        (2**60, float(2**60), None),  # beyond 2**53: Arrow refuses the int, we convert it
        (-0.0, -0.0, None),
        ("1e3", 1000.0, "scores[].score"),
    ],
)
def test_score_values(value: Any, expected: float | None, counter: str | None) -> None:
    out = run([index_row("a")], [raw("a", payload("a", scores=[{"score": value, "maxScore": 5}]))])
    assert col(out, "scores", "score") == [expected]
    assert out.coerced == ({counter: 1} if counter else {})


@pytest.mark.parametrize(
    ("value", "expected", "counter"),
    [
        (2, 2, None),
        (2.0, 2, "transcriptions[].ordinal"),
        ("2", 2, "transcriptions[].ordinal"),
        (" 2.0 ", 2, "transcriptions[].ordinal"),
        (2.5, None, "transcriptions[].ordinal:nulled"),  # Arrow would truncate this to 2
        (2**31, None, "transcriptions[].ordinal:nulled"),
        (-(2**31), -(2**31), None),
        (False, None, "transcriptions[].ordinal:nulled"),
        ("first", None, "transcriptions[].ordinal:nulled"),
    ],
)
def test_ordinal_values(value: Any, expected: int | None, counter: str | None) -> None:
    data = payload("a", transcriptions=[transcription(1, ordinal=value)])
    out = run([index_row("a")], [raw("a", data)])
    assert col(out, "transcriptions", "ordinal") == [expected]
    assert out.coerced == ({counter: 1} if counter else {})


def test_non_text_in_text_fields() -> None:
    data = payload(
        "a",
        transcriptions=[transcription(1, questionTitle=42, language=True, transcription={"t": 1})],
        summary=["not", "text"],
        summaryStatus=7,
    )
    out = run([index_row("a")], [raw("a", data)])
    t = rows_of(out, "transcriptions")[0]
    assert (t["question_title"], t["language"], t["transcription"]) == ("42", "true", None)
    assert rows_of(out, "summaries")[0] == {**rows_of(out, "summaries")[0], "summary": None,
                                            "summary_status": "7"}  # fmt: skip
    assert col(out, "candidate_interviews", "summary_status") == ["7"]
    assert out.coerced == {
        "summary:nulled": 1,
        "summaryStatus": 1,
        "transcriptions[].language": 1,
        "transcriptions[].questionTitle": 1,
        "transcriptions[].transcription:nulled": 1,
    }


def test_strings_stay_strings() -> None:
    long_text = "très long 😀 " * 20_000  # ~280k characters
    data = payload(
        "a",
        transcriptions=[
            transcription(1, transcription="Ça va? Größe — 日本語 👩🏽‍💻"),
            transcription(2, transcription=long_text, questionTitle="007"),
        ],
    )
    out = run([index_row("a")], [raw("a", data)])
    assert col(out, "transcriptions", "transcription") == [
        "Ça va? Größe — 日本語 👩🏽‍💻",
        long_text,
    ]
    assert col(out, "transcriptions", "question_title") == ["Question 1?", "007"]
    assert out.coerced == {}


def test_timestamps_in_payload_accept_every_format() -> None:
    data = payload(
        "a",
        takenAt="2024-03-02T17:21:09.000Z",
        ratings=[
            {"userId": "u", "createdAt": "2024-03-03T08:00:00Z"},
            {"userId": "u", "createdAt": "2024-03-03T08:00:00.000Z"},
            {"userId": "u", "createdAt": "2024-03-03T09:00:00+01:00"},
            {"userId": "u", "createdAt": None},
        ],
    )
    out = run([index_row("a")], [raw("a", data)])
    expected = datetime(2024, 3, 3, 8, tzinfo=UTC)
    assert col(out, "ratings", "rated_at") == [expected, expected, expected, None]
    assert col(out, "candidate_interviews", "taken_at") == [
        datetime(2024, 3, 2, 17, 21, 9, tzinfo=UTC)
    ]
    assert out.coerced == {}


# -- shape problems --------------------------------------------------------------------------------


def test_non_object_list_elements_are_skipped_and_counted_positions_kept() -> None:
    data = payload("a", transcriptions=[transcription(1), "oops", None, 5, [1], transcription(6)])
    out = run([index_row("a")], [raw("a", data)])
    assert col(out, "transcriptions", "position") == [0, 5]
    assert col(out, "transcriptions", "question_id") == ["q1", "q6"]
    assert out.coerced == {"transcriptions[]:skipped": 4}
    assert out.errors == []


@pytest.mark.parametrize("bad", ["text", 5, {"a": 1}, True])
def test_lists_of_the_wrong_type_are_a_shape_error_and_empty(bad: Any) -> None:
    data = payload("a", transcriptions=bad, scores=bad, ratings=bad)
    data["scoreCard"]["results"] = bad
    out = run([index_row("a")], [raw("a", data)])
    assert out.tables["transcriptions"].num_rows == 0
    assert out.tables["scores"].num_rows == 0
    assert out.tables["ratings"].num_rows == 0
    assert out.tables["scorecard_results"].num_rows == 0
    assert out.tables["scorecards"].num_rows == 1  # the card itself was fine
    assert [(e.stage, e.error.split("'")[1]) for e in out.errors] == [
        ("shape", "transcriptions"),
        ("shape", "scores"),
        ("shape", "ratings"),
        ("shape", "scoreCard.results"),
    ]
    assert all(e.raw_ref == "raw/a.json" and "expected an array" in e.error for e in out.errors)
    assert col(out, "candidate_interviews", "has_results") == [True]


def test_missing_or_null_lists_are_empty_without_error() -> None:
    data = payload("a", transcriptions=None, ratings=None)
    del data["scores"]
    out = run([index_row("a")], [raw("a", data)])
    assert out.errors == []
    assert out.tables["transcriptions"].num_rows == 0 and out.tables["scores"].num_rows == 0


def test_scorecard_of_the_wrong_type() -> None:
    out = run([index_row("a")], [raw("a", payload("a", scoreCard=["x"]))])
    assert [(e.stage, e.error) for e in out.errors] == [
        ("shape", "'scoreCard' is a JSON array, expected an object; ignored")
    ]
    assert out.tables["scorecards"].num_rows == 0
    assert col(out, "candidate_interviews", "has_scorecard") == [False]


def test_payload_naming_another_interview_is_flagged_but_loaded() -> None:
    out = run([index_row("a")], [raw("a", payload("someone-else"))])
    assert [e.stage for e in out.errors] == ["shape"]
    assert "differs from the requested id" in out.errors[0].error
    assert set(col(out, "transcriptions", "candidate_interview_id")) == {"a"}


# -- unreadable bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is empty"),
        (b"{not json", "body is not valid JSON"),
        (b"\xff\xfe\x00", "body is not valid JSON"),
        (b'{"data": {"a": 1}', "body is not valid JSON"),  # truncated download
        (b"[1, 2]", "body is a JSON array, expected an object with 'data'"),
        (b'"data"', "body is a JSON string"),
        (b"null", "body is a JSON null"),
        (b'{"meta": {}}', "envelope has no 'data' field (top-level keys: meta)"),
        (
            b'{"error": {"code": "NOT_FOUND", "message": "x"}, "meta": {}}',
            "envelope has no 'data' field (API error 'NOT_FOUND')",
        ),
        (b'{"data": null}', "'data' is a JSON null, expected an object"),
        (b'{"data": [{"transcriptions": []}]}', "'data' is a JSON array, expected an object"),
        (b'{"data": "ok"}', "'data' is a JSON string, expected an object"),
    ],
)
def test_unreadable_body_is_a_parse_error_and_keeps_the_interview(
    body: bytes, message: str
) -> None:
    out = run([index_row("a"), index_row("b")], [raw("a", body=body), raw("b", payload("b"))])
    assert out.errors == [LoadError("a", "parse", out.errors[0].error, "raw/a.json")]
    assert out.errors[0].error.startswith(message), out.errors[0].error
    ci = rows_of(out, "candidate_interviews")
    assert [
        (r["candidate_interview_id"], r["has_results"], r["results_quarantined"]) for r in ci
    ] == [
        ("a", False, True),
        ("b", True, False),
    ]
    assert ci[0]["_extracted_at"] == FETCHED  # it was fetched, just not readable
    assert ci[0]["status"] == "has_reviewed" and ci[0]["created_date"] == date(2024, 3, 1)
    for name in schemas.TABLES:
        if name != "candidate_interviews":
            assert "a" not in col(out, name, "candidate_interview_id"), name


def test_body_of_the_wrong_python_type_is_a_parse_error() -> None:
    bad = RawResult("a", None, FETCHED, "raw/a")  # type: ignore[arg-type]
    out = run([index_row("a")], [bad])
    assert [e.stage for e in out.errors] == ["parse"]


def test_unexpected_mapping_error_rolls_back_only_that_payload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from humanly_pipeline import flatten as flatten_module

    real = flatten_module._Builder._extra

    def boom(self: Any, cid: str, raw: RawResult, data: dict[str, Any]) -> str | None:
        if cid == "b":
            raise RuntimeError("mapping bug")
        return real(self, cid, raw, data)

    monkeypatch.setattr(flatten_module._Builder, "_extra", boom)
    # "b" has an unknown top-level field, so _extra runs (and fails) after nothing was appended;
    # make it fail after its children were appended by ordering: children are appended later, so
    # also check the rows of "a" and "c" are intact.
    raws = [raw(c, payload(c, newField=1)) for c in ("a", "b", "c")]
    out = run([index_row(c) for c in ("a", "b", "c")], raws)
    assert [(e.candidate_interview_id, e.stage, e.error) for e in out.errors] == [
        ("b", "flatten", "RuntimeError: mapping bug")
    ]
    assert col(out, "candidate_interviews", "results_quarantined") == [False, True, False]
    assert col(out, "transcriptions", "candidate_interview_id") == ["a", "a", "c", "c"]
    assert col(out, "scorecard_results", "candidate_interview_id") == ["a", "a", "c", "c"]


def test_rollback_after_children_were_appended(monkeypatch: pytest.MonkeyPatch) -> None:
    from humanly_pipeline import flatten as flatten_module

    real = flatten_module._ts

    def boom(v: Any, key: str, coerced: dict[str, int]) -> Any:
        if v == "EXPLODE":
            raise RuntimeError("late bug")
        return real(v, key, coerced)

    monkeypatch.setattr(flatten_module, "_ts", boom)
    # takenAt is mapped after every child table of the payload was appended.
    raws = [raw("a", payload("a")), raw("b", payload("b", takenAt="EXPLODE"))]
    out = run([index_row("a"), index_row("b")], raws)
    assert [(e.candidate_interview_id, e.stage) for e in out.errors] == [("b", "flatten")]
    for name in schemas.TABLES:
        if name != "candidate_interviews":
            assert set(col(out, name, "candidate_interview_id")) == {"a"}, name
    assert len(col(out, "scorecard_results", "scorecard_id")) == 2


# -- unknown fields and secrets --------------------------------------------------------------------


def test_unknown_fields_go_to_extra_and_new_fields() -> None:
    data = payload("a", zeta={"nested": [1, 2]}, alpha="x", scoreCard=None)
    data["transcriptions"][0]["sentiment"] = "positive"
    data["transcriptions"][1]["sentiment"] = "neutral"
    data["scores"][0]["rubric"] = {"id": 1}
    data["ratings"][0]["edited"] = True
    out = run([index_row("a")], [raw("a", data)])
    assert col(out, "candidate_interviews", "_extra") == ['{"alpha":"x","zeta":{"nested":[1,2]}}']
    assert out.new_fields == {
        "alpha": 1,
        "ratings[].edited": 1,
        "scores[].rubric": 1,
        "transcriptions[].sentiment": 2,
        "zeta": 1,
    }
    # The known columns of those elements are still filled.
    assert col(out, "transcriptions", "question_id") == ["q1", "q2"]
    assert col(out, "scores", "score") == [4.0, 3.5]


def test_unknown_fields_in_scorecard_and_results_are_counted() -> None:
    data = payload("a")
    data["scoreCard"]["version"] = 2
    for r in data["scoreCard"]["results"]:
        r["newThing"] = "x"
    out = run([index_row("a")], [raw("a", data)])
    assert out.new_fields == {"scoreCard.results[].newThing": 2, "scoreCard.version": 1}
    assert col(out, "candidate_interviews", "_extra") == [None]
    assert col(out, "scorecard_results", "criterion_id") == ["c1", "c2"]


def test_invite_token_never_reaches_any_table() -> None:
    data = payload(
        "a",
        inviteToken=SECRET,
        invite_token=SECRET,
        extraInfo={"inviteToken": SECRET, "deeper": [{"InviteToken": SECRET, "keep": 1}]},
    )
    data["transcriptions"][0]["inviteToken"] = SECRET
    data["scoreCard"]["inviteToken"] = SECRET
    data["scoreCard"]["results"][1]["inviteToken"] = SECRET
    data["ratings"][0]["invite-token"] = SECRET
    out = run([index_row("a")], [raw("a", data)])
    # Every value of every column of every table, as text.
    for name, table in out.tables.items():
        for column in table.columns:
            for value in column.to_pylist():
                assert SECRET not in str(value), (name, column)
                assert "nviteToken" not in str(value) and "nvite_token" not in str(value)
    assert col(out, "candidate_interviews", "_extra") == ['{"extraInfo":{"deeper":[{"keep":1}]}}']
    assert out.new_fields == {"extraInfo": 1}  # the secret is dropped silently, not counted
    assert all(SECRET not in e.error for e in out.errors)
    # The element carrying the token was still loaded.
    assert col(out, "transcriptions", "question_id") == ["q1", "q2"]
    assert col(out, "scorecard_results", "criterion_id") == ["c1", "c2"]


@pytest.mark.parametrize("depth", [600, 1000])
def test_extra_too_deep_for_json_is_a_shape_error_not_a_crash(depth: int) -> None:
    # 600: deeper than orjson.dumps allows (stdlib fallback); 1000: deeper than Python recursion.
    # Both stay under orjson.loads' limit of 1024, so the body itself parses.
    body = orjson.dumps({"data": payload("a", deep="@@")}).replace(
        b'"@@"', b"[" * depth + b"1" + b"]" * depth
    )
    out = run([index_row("a")], [raw("a", body=body)])
    extra = col(out, "candidate_interviews", "_extra")[0]
    if extra is None:
        assert [e.stage for e in out.errors] == ["shape"]
        assert "could not be kept in _extra" in out.errors[0].error
    else:
        assert out.errors == []
        assert extra.startswith('{"deep":' + "[" * depth + "1")
    assert out.new_fields == {"deep": 1}
    assert out.tables["transcriptions"].num_rows == 2
    assert col(out, "candidate_interviews", "has_results") == [True]


def test_a_soft_deleted_interview_keeps_its_rows_and_says_when_it_went() -> None:
    gone = datetime(2024, 3, 9, tzinfo=UTC)
    row = dataclasses.replace(index_row("ci-1"), deleted_at=gone)
    out = run([row], [raw("ci-1", payload("ci-1"))])
    (ci,) = rows_of(out, "candidate_interviews")
    assert ci["is_deleted"] is True and ci["deleted_at"] == gone
    assert out.tables["transcriptions"].num_rows == 2
