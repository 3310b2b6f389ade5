"""Property-based tests of humanly_pipeline.flatten: no input makes it raise.

Whatever the bytes of a body, or whatever JSON value sits where an object or list is expected,
flatten() returns tables that match schemas.TABLES exactly (plus LoadErrors), keeps one
candidate_interviews row per index row, never leaks an inviteToken, and is deterministic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humanly_pipeline import schemas
from humanly_pipeline.flatten import Flattened, IndexRow, RawResult, flatten

FETCHED = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
SECRET = "SECRET-TOKEN-VALUE"
PROFILE = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# orjson only round-trips 64-bit integers; the API sends JSON, so this is the whole domain.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)

# Known key names mixed into random objects so that the mapping paths are exercised, not just
# the "unknown field" path; inviteToken is among them to check it never leaks.
KEYS = st.sampled_from(
    [
        "candidateInterviewId", "candidateId", "interviewId", "status", "takenAt",
        "transcriptions", "scores", "ratings", "summary", "summaryStatus", "scoreCard",
        "questionId", "questionTitle", "ordinal", "transcription", "durationSeconds",
        "language", "confidence", "audioUrl", "score", "maxScore", "source", "userId",
        "rating", "maxRating", "comment", "createdAt", "id", "name", "evaluationType",
        "overallScore", "evaluatedAt", "results", "criterionId", "criterion", "weight",
        "rationale",
    ]
) | st.text(max_size=8)  # fmt: skip


def objects(values: st.SearchStrategy[Any], max_size: int = 8) -> st.SearchStrategy[Any]:
    """Objects with known and random keys, some carrying an inviteToken (always SECRET)."""
    return st.tuples(st.dictionaries(KEYS, values, max_size=max_size), st.booleans()).map(
        lambda t: {**t[0], "inviteToken": SECRET} if t[1] else t[0]
    )


shaped_values = st.recursive(
    json_scalars | st.sampled_from(["4", "3.5", " 2.0 ", "2024-01-01T00:00:00Z"]),
    lambda children: st.lists(children, max_size=4) | objects(children),
    max_leaves=10,
)


def index_row(cid: str) -> IndexRow:
    created = datetime(2024, 3, 1, 10, tzinfo=UTC)
    return IndexRow(cid, "cand", "int", "has_reviewed", created, None, date(2024, 3, 1))


def check(out: Flattened, ids: list[str]) -> None:
    """Invariants that must hold for any input."""
    assert list(out.tables) == list(schemas.TABLES)
    for name, table in out.tables.items():
        assert table.schema.equals(schemas.TABLES[name], check_metadata=True), name
        table.validate(full=True)
        for f in table.schema:
            if not f.nullable:
                assert table.column(f.name).null_count == 0, (name, f.name)
        assert set(table.column("candidate_interview_id").to_pylist()) <= set(ids), name
        assert set(table.column("status").to_pylist()) <= {"has_reviewed"}
        for column in table.columns:
            for value in column.to_pylist():
                assert SECRET not in str(value), (name, column)
    ci = out.tables["candidate_interviews"]
    assert ci.column("candidate_interview_id").to_pylist() == sorted(set(ids))
    for name in ("transcriptions", "scores", "ratings", "scorecard_results"):
        keys = list(
            zip(
                out.tables[name].column("candidate_interview_id").to_pylist(),
                out.tables[name].column("position").to_pylist(),
                strict=True,
            )
        )
        assert keys == sorted(keys) and len(set(keys)) == len(keys), name
    for e in out.errors:
        assert e.stage in ("parse", "shape", "flatten") and e.error
        assert e.candidate_interview_id in ids
        assert SECRET not in e.error
    assert all(isinstance(v, int) and v > 0 for v in out.new_fields.values())
    assert all(isinstance(v, int) and v > 0 for v in out.coerced.values())
    assert "inviteToken" not in out.new_fields


@PROFILE
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(body: bytes) -> None:
    out = flatten([index_row("a")], {"a": RawResult("a", body, FETCHED, "raw/a")})
    check(out, ["a"])
    ci = out.tables["candidate_interviews"].to_pylist()[0]
    # Arbitrary bytes are (almost) never a valid envelope: then it is exactly one parse error.
    if not ci["has_results"]:
        assert ci["results_quarantined"]
        assert [e.stage for e in out.errors] == ["parse"]


@PROFILE
@given(data=json_values)
def test_any_json_value_as_data_never_raises(data: Any) -> None:
    body = orjson.dumps({"data": data, "meta": {}})
    out = flatten([index_row("a")], {"a": RawResult("a", body, FETCHED, "raw/a")})
    check(out, ["a"])
    has_results = out.tables["candidate_interviews"].column("has_results").to_pylist()
    assert has_results == [isinstance(data, dict)]


# Fewer examples: each one generates up to two nested payloads, which dominates the runtime.
@settings(PROFILE, max_examples=120)
@given(
    payloads=st.lists(objects(shaped_values, max_size=8), min_size=1, max_size=2),
    envelope_junk=st.booleans(),
)
def test_payload_like_objects_never_raise_and_are_deterministic(
    payloads: list[dict[str, Any]], envelope_junk: bool
) -> None:
    ids = [f"ci-{i}" for i in range(len(payloads))] + ["no-results"]
    raws = {}
    for cid, data in zip(ids, payloads, strict=False):
        envelope: dict[str, Any] = {"data": data, "meta": {}}
        if envelope_junk:
            envelope["inviteToken"] = SECRET
        raws[cid] = RawResult(cid, orjson.dumps(envelope), FETCHED, f"raw/{cid}")
    rows = [index_row(cid) for cid in ids]
    out = flatten(rows, raws)
    check(out, ids)
    assert out.tables["candidate_interviews"].column("has_results").to_pylist() == [True] * len(
        payloads
    ) + [False]
    assert out.tables["summaries"].num_rows == len(payloads)
    # Deterministic: reversed inputs give identical tables and counters.
    again = flatten(list(reversed(rows)), dict(reversed(list(raws.items()))))
    for name in schemas.TABLES:
        assert again.tables[name].equals(out.tables[name]), name
    assert (again.new_fields, again.coerced, again.errors) == (
        out.new_fields,
        out.coerced,
        out.errors,
    )


@PROFILE
@given(elements=st.lists(shaped_values | objects(json_scalars, max_size=10), max_size=6))
def test_lists_of_anything_in_every_list_field(elements: list[Any]) -> None:
    data = {
        "transcriptions": elements,
        "scores": elements,
        "ratings": elements,
        "scoreCard": {"id": "sc", "results": elements},
    }
    body = orjson.dumps({"data": data})
    out = flatten([index_row("a")], {"a": RawResult("a", body, FETCHED, "raw/a")})
    check(out, ["a"])
    n_objects = sum(isinstance(e, dict) for e in elements)
    for name in ("transcriptions", "scores", "ratings", "scorecard_results"):
        assert out.tables[name].num_rows == n_objects, name
        assert out.tables[name].column("position").to_pylist() == [
            i for i, e in enumerate(elements) if isinstance(e, dict)
        ]
    assert out.errors == []
