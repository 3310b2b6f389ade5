"""The warehouse's Arrow schemas: one explicit ``pa.schema`` per table, plus the known enums.

This module owns the *shape* of every table the pipeline writes (column names, Arrow types,
nullability, column order) and the human description of every column, stored in each field's
metadata under ``b"description"`` so that a data dictionary can be generated from it. It holds
no logic: ``flatten.py`` fills these schemas, ``storage.py`` writes them, checks validate them.

Conventions (binding, see /work/shared/CONTRACT.md):
- snake_case names; timestamps are ``timestamp("us", tz="UTC")``; scores, ratings, weights,
  durations and confidences are ``float64``; ordinals and list positions are ``int32``.
- Every per-interview table carries ``status`` and ``created_date`` (the Hive partition
  columns, ``PARTITION_COLUMNS``) and ``_extracted_at`` (fetch time of the payload the row came
  from). ``status`` is always the interview's latest *listed* status, in every table.
- Child rows are keyed by ``candidate_interview_id`` plus ``position`` (the element's index in
  the payload's list, gaps possible where a non-object element was skipped).
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

TIMESTAMP: Final = pa.timestamp("us", tz="UTC")

# Documented candidate-interview statuses. The set is open on purpose ("expired" shows up in
# Humanly's analytics although the API docs do not list it): an unknown status is stored as-is.
KNOWN_STATUSES: Final[tuple[str, ...]] = (
    "invite_sent",
    "new_response",
    "has_reviewed",
    "partially_completed",
    "hired",
    "archived",
    "expired",
)
SUMMARY_STATUSES: Final[tuple[str, ...]] = (
    "pre-summary-feature",
    "processing",
    "complete",
    "error",
)
EVALUATION_TYPES: Final[tuple[str, ...]] = ("ai_generated", "manual", "hybrid")
SCORE_SOURCES: Final[tuple[str, ...]] = ("ai", "manual")

# The Hive directory levels under parquet/<table>/, in this order.
PARTITION_COLUMNS: Final[tuple[str, str]] = ("status", "created_date")


def _f(name: str, type_: pa.DataType, description: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={b"description": description.encode()})


def _id_field() -> pa.Field:
    return _f(
        "candidate_interview_id",
        pa.string(),
        "Gather id of the candidate interview (one candidate taking one interview).",
        nullable=False,
    )


def _common_tail() -> list[pa.Field]:
    """status / created_date / _extracted_at, identical in every per-interview table."""
    return [
        _f(
            "status",
            pa.string(),
            "Latest status of the candidate interview as listed by the API (invite_sent, "
            "new_response, has_reviewed, partially_completed, hired, archived, expired, or a "
            "newer value). Taken from the listing, not from the results payload. Partition column.",
            nullable=False,
        ),
        _f(
            "created_date",
            pa.date32(),
            "UTC calendar date of the candidate interview's createdAt. Partition column and "
            "Dagster daily partition key.",
            nullable=False,
        ),
        _f(
            "_extracted_at",
            TIMESTAMP,
            "When the results payload this row came from was fetched from the API (UTC). Null in "
            "candidate_interviews when the results were never fetched.",
        ),
    ]


def _position_field(what: str) -> pa.Field:
    return _f(
        "position",
        pa.int32(),
        f"0-based index of this {what} in the payload's list; with candidate_interview_id it "
        "identifies the row. Gaps mean a malformed list element was skipped.",
        nullable=False,
    )


CANDIDATE_INTERVIEWS: Final = pa.schema(
    [
        _id_field(),
        _f("candidate_id", pa.string(), "Gather id of the candidate."),
        _f("interview_id", pa.string(), "Gather id of the interview (the question set)."),
        _f("created_at", TIMESTAMP, "When the candidate interview was created (UTC)."),
        _f("invite_sent_at", TIMESTAMP, "When the invite was sent (UTC); null if never sent."),
        _f(
            "taken_at",
            TIMESTAMP,
            "When the candidate took the interview (UTC), from the results payload; null when "
            "no results were fetched or the payload does not say.",
        ),
        _f(
            "has_results",
            pa.bool_(),
            "True when a readable results payload was fetched for this interview.",
            nullable=False,
        ),
        _f(
            "results_quarantined",
            pa.bool_(),
            "True when a results payload was fetched but could not be read at all; the reason "
            "is in load_errors.",
            nullable=False,
        ),
        _f(
            "has_scorecard",
            pa.bool_(),
            "True when the latest results payload carries a score card.",
            nullable=False,
        ),
        _f(
            "summary_status",
            pa.string(),
            "State of the AI summary in the latest results payload: pre-summary-feature, "
            "processing, complete, error (or a newer value); null without results.",
        ),
        _f(
            "results_status",
            pa.string(),
            "The status stated inside the latest results payload (may lag the listed status).",
        ),
        _f(
            "is_deleted",
            pa.bool_(),
            "True when the interview no longer appears in a complete listing of the API (a soft "
            "delete: its rows are kept as last seen).",
            nullable=False,
        ),
        _f(
            "deleted_at",
            TIMESTAMP,
            "When a complete listing first no longer contained the interview (API clock, UTC); "
            "null while it is listed.",
        ),
        _f(
            "_extra",
            pa.string(),
            "JSON object (sorted keys) of top-level results fields this pipeline does not map "
            "yet; null when there are none. Secrets (inviteToken) are removed.",
        ),
        *_common_tail(),
    ]
)

TRANSCRIPTIONS: Final = pa.schema(
    [
        _id_field(),
        _f("question_id", pa.string(), "Gather id of the interview question answered."),
        _f(
            "ordinal",
            pa.int32(),
            "Order of the question within the interview, as given by the API.",
        ),
        _f("question_title", pa.string(), "Text of the question as asked."),
        _f("transcription", pa.string(), "Transcript of the candidate's answer; null if none."),
        _f("duration_seconds", pa.float64(), "Length of the recorded answer in seconds."),
        _f("language", pa.string(), "Language code of the answer, e.g. 'en'."),
        _f("confidence", pa.float64(), "Speech-to-text confidence, 0 to 1."),
        _f("audio_url", pa.string(), "URL of the answer's audio recording (may expire)."),
        _position_field("transcription"),
        *_common_tail(),
    ]
)

SCORES: Final = pa.schema(
    [
        _id_field(),
        _f("question_id", pa.string(), "Question this score is for; null for interview-level."),
        _f("score", pa.float64(), "Score given."),
        _f("max_score", pa.float64(), "Highest possible score on this scale."),
        _f("source", pa.string(), "Who scored: 'ai' or 'manual' (or a newer value)."),
        _position_field("score"),
        *_common_tail(),
    ]
)

RATINGS: Final = pa.schema(
    [
        _id_field(),
        _f("user_id", pa.string(), "Gather id of the reviewer who rated."),
        _f("rating", pa.float64(), "Rating given by the reviewer."),
        _f("max_rating", pa.float64(), "Highest possible rating on this scale."),
        _f("comment", pa.string(), "Reviewer's comment; null if none."),
        _f("rated_at", TIMESTAMP, "When the rating was made (UTC); the payload's createdAt."),
        _position_field("rating"),
        *_common_tail(),
    ]
)

SUMMARIES: Final = pa.schema(
    [
        _id_field(),
        _f(
            "summary_status",
            pa.string(),
            "pre-summary-feature, processing, complete or error (or a newer value).",
        ),
        _f("summary", pa.string(), "AI-generated summary of the interview; null until complete."),
        *_common_tail(),
    ]
)

SCORECARDS: Final = pa.schema(
    [
        _id_field(),
        _f("scorecard_id", pa.string(), "Gather id of the score card."),
        _f("scorecard_name", pa.string(), "Name of the score card."),
        _f(
            "evaluation_type",
            pa.string(),
            "How the card was evaluated: ai_generated, manual, hybrid (or a newer value).",
        ),
        _f("overall_score", pa.float64(), "Overall score of the card."),
        _f("max_score", pa.float64(), "Highest possible overall score."),
        _f("evaluated_at", TIMESTAMP, "When the card was evaluated (UTC)."),
        *_common_tail(),
    ]
)

SCORECARD_RESULTS: Final = pa.schema(
    [
        _id_field(),
        _f("scorecard_id", pa.string(), "Score card this criterion result belongs to."),
        _f("criterion_id", pa.string(), "Gather id of the criterion."),
        _f("criterion", pa.string(), "Name of the criterion, e.g. 'Communication'."),
        _f("score", pa.float64(), "Score on this criterion."),
        _f("max_score", pa.float64(), "Highest possible score on this criterion."),
        _f("weight", pa.float64(), "Weight of the criterion in the overall score."),
        _f("rationale", pa.string(), "Why this score was given; null if none."),
        _position_field("criterion result"),
        *_common_tail(),
    ]
)

# Stable order: parents first, then children as they appear in the payload.
TABLES: Final[dict[str, pa.Schema]] = {
    "candidate_interviews": CANDIDATE_INTERVIEWS,
    "transcriptions": TRANSCRIPTIONS,
    "scores": SCORES,
    "ratings": RATINGS,
    "summaries": SUMMARIES,
    "scorecards": SCORECARDS,
    "scorecard_results": SCORECARD_RESULTS,
}

STATUS_HISTORY_SCHEMA: Final = pa.schema(
    [
        _id_field(),
        _f(
            "status",
            pa.string(),
            "A status the interview was listed in.",
            nullable=False,
        ),
        _f(
            "first_seen",
            TIMESTAMP,
            "The API's clock at the first listing pass that showed this status (UTC).",
            nullable=False,
        ),
        _f(
            "last_seen",
            TIMESTAMP,
            "The API's clock at the latest listing pass that showed this status (UTC).",
            nullable=False,
        ),
    ]
)

LOAD_ERRORS_SCHEMA: Final = pa.schema(
    [
        _id_field(),
        _f(
            "stage",
            pa.string(),
            "Where it failed: 'parse' (body unreadable or envelope without a data object), "
            "'shape' (a known field had the wrong type; the rest was loaded) or 'flatten' "
            "(unexpected error; none of the payload was loaded).",
            nullable=False,
        ),
        _f("error", pa.string(), "What was wrong (never contains payload values).", nullable=False),
        _f("raw_ref", pa.string(), "Where the raw payload is landed, to inspect or replay it."),
        _f("first_seen", TIMESTAMP, "When this error was first recorded (UTC).", nullable=False),
        _f("last_seen", TIMESTAMP, "When this error was last recorded (UTC).", nullable=False),
    ]
)


def describe(schema: pa.Schema) -> dict[str, str]:
    """Column name -> description, for data dictionaries and Dagster column metadata."""
    return {f.name: (f.metadata or {}).get(b"description", b"").decode() for f in schema}
