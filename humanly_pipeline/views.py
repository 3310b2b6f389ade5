"""The modeled views of humanly.duckdb: their SQL, their column descriptions, `create_views`.

This module owns what analysts get *on top of* the tables: one row per interview with its
metrics (`interview_facts`), the daily funnel (`funnel_daily`), score-card criteria statistics
(`criterion_scores`) and, when the status history is published, time spent in each status
(`time_in_status`). The funnel's definitions live in one place, the boolean columns of
`interview_facts`, so every count of `funnel_daily` can be traced to single interviews.

Views are plain SQL over the published tables, so they cost nothing at publish time and always
agree with the tables in the same file. Every identifier in the SQL is a constant of this module;
nothing from the API reaches a statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import duckdb

# Statuses in which the candidate has certainly answered every question / been reviewed.
# `archived` is decided from the data instead (see interview_facts), because Gather archives
# complete, partial and reviewed interviews alike.
INTERVIEW_FACTS_SQL: Final = """
WITH asked AS (
    SELECT candidate_interview_id,
           count(*) AS questions_asked,
           count(transcription) AS questions_answered
    FROM transcriptions
    GROUP BY candidate_interview_id
), question_sets AS (
    -- The API does not say how many questions an interview has: count the distinct questions
    -- any candidate of that interview was asked (a complete answer lists them all).
    SELECT ci.interview_id, count(DISTINCT t.question_id) AS questions_in_interview
    FROM transcriptions AS t
    JOIN candidate_interviews AS ci USING (candidate_interview_id)
    GROUP BY ci.interview_id
), question_scores AS (
    SELECT candidate_interview_id,
           avg(score) AS mean_question_score,
           avg(score / nullif(max_score, 0)) AS mean_question_score_pct
    FROM scores
    WHERE question_id IS NOT NULL
    GROUP BY candidate_interview_id
), rated AS (
    SELECT candidate_interview_id, count(*) AS ratings, avg(rating) AS mean_rating
    FROM ratings
    GROUP BY candidate_interview_id
), facts AS (
    SELECT ci.candidate_interview_id,
           ci.candidate_id,
           ci.interview_id,
           ci.status,
           ci.created_date,
           ci.created_at,
           ci.invite_sent_at,
           ci.taken_at,
           ci.is_deleted,
           (epoch(ci.taken_at) - epoch(ci.invite_sent_at)) / 3600.0 AS hours_to_complete,
           coalesce(a.questions_asked, 0) AS questions_asked,
           coalesce(a.questions_answered, 0) AS questions_answered,
           qs.questions_in_interview,
           s.mean_question_score,
           s.mean_question_score_pct,
           sc.overall_score AS scorecard_overall_score,
           sc.max_score AS scorecard_max_score,
           sc.evaluation_type AS scorecard_evaluation_type,
           coalesce(r.ratings, 0) AS ratings,
           r.mean_rating,
           coalesce(su.summary_status = 'complete' AND su.summary IS NOT NULL, false)
               AS summary_available
    FROM candidate_interviews AS ci
    LEFT JOIN asked AS a USING (candidate_interview_id)
    LEFT JOIN question_sets AS qs ON qs.interview_id = ci.interview_id
    LEFT JOIN question_scores AS s USING (candidate_interview_id)
    LEFT JOIN scorecards AS sc USING (candidate_interview_id)
    LEFT JOIN rated AS r USING (candidate_interview_id)
    LEFT JOIN summaries AS su USING (candidate_interview_id)
)
SELECT *,
       status IN ('new_response', 'has_reviewed', 'partially_completed', 'hired')
           OR (status = 'archived' AND questions_asked > 0) AS responded,
       status IN ('new_response', 'has_reviewed', 'hired')
           OR (status = 'archived' AND questions_asked > 0
               AND questions_asked >= questions_in_interview) AS completed,
       status IN ('has_reviewed', 'hired') OR (status = 'archived' AND ratings > 0) AS reviewed
FROM facts
"""

FUNNEL_DAILY_SQL: Final = """
SELECT created_date,
       count(*) AS invited,
       count(*) FILTER (WHERE responded) AS responded,
       count(*) FILTER (WHERE completed) AS completed,
       count(*) FILTER (WHERE responded AND NOT completed) AS partially_completed,
       count(*) FILTER (WHERE status = 'expired') AS expired,
       count(*) FILTER (WHERE reviewed) AS reviewed,
       count(*) FILTER (WHERE status = 'hired') AS hired,
       count(*) FILTER (WHERE status = 'archived') AS archived,
       count(*) FILTER (WHERE responded) / nullif(count(*), 0) AS response_rate,
       count(*) FILTER (WHERE completed) / nullif(count(*), 0) AS completion_rate,
       count(*) FILTER (WHERE reviewed)
           / nullif(count(*) FILTER (WHERE completed), 0) AS review_rate,
       count(*) FILTER (WHERE status = 'hired')
           / nullif(count(*) FILTER (WHERE reviewed), 0) AS hire_rate
FROM interview_facts
WHERE NOT is_deleted
GROUP BY created_date
ORDER BY created_date
"""

# Buckets by share of max_score, upper bound inclusive, so that on a 1-5 scale each score
# lands in its own bucket (1 -> 0-20 %, ..., 5 -> 80-100 %). score * 5 / max_score is exact
# for the usual small integers, unlike score / max_score * 100 (3 / 5 * 100 = 60.000...01).
CRITERION_SCORES_SQL: Final = """
WITH results AS (
    SELECT r.*,
           sc.scorecard_name,
           least(greatest(ceil(r.score * 5 / nullif(r.max_score, 0)), 1), 5) AS bucket
    FROM scorecard_results AS r
    LEFT JOIN scorecards AS sc USING (candidate_interview_id, scorecard_id)
)
SELECT scorecard_name,
       criterion_id,
       criterion,
       count(score) AS results,
       avg(score) AS mean_score,
       avg(score / nullif(max_score, 0)) AS mean_score_pct,
       stddev_samp(score) AS stddev_score,
       min(score) AS min_score,
       max(score) AS max_score,
       avg(weight) AS mean_weight,
       count(*) FILTER (WHERE bucket = 1) AS scores_0_20,
       count(*) FILTER (WHERE bucket = 2) AS scores_20_40,
       count(*) FILTER (WHERE bucket = 3) AS scores_40_60,
       count(*) FILTER (WHERE bucket = 4) AS scores_60_80,
       count(*) FILTER (WHERE bucket = 5) AS scores_80_100
FROM results
GROUP BY scorecard_name, criterion_id, criterion
ORDER BY scorecard_name, criterion
"""

TIME_IN_STATUS_SQL: Final = """
WITH ordered AS (
    SELECT candidate_interview_id,
           status,
           first_seen,
           last_seen,
           lead(status) OVER w AS next_status,
           lead(first_seen) OVER w AS left_at
    FROM status_history
    WINDOW w AS (PARTITION BY candidate_interview_id ORDER BY first_seen, last_seen, status)
)
SELECT candidate_interview_id,
       status,
       first_seen,
       last_seen,
       next_status,
       left_at,
       (epoch(coalesce(left_at, last_seen)) - epoch(first_seen)) / 3600.0 AS hours_in_status,
       left_at IS NULL AS is_current
FROM ordered
"""


@dataclass(frozen=True)
class View:
    sql: str
    description: str
    columns: dict[str, str]
    requires: tuple[str, ...]  # tables that must exist for the view to be created


VIEWS: Final[dict[str, View]] = {
    "interview_facts": View(
        INTERVIEW_FACTS_SQL,
        "One row per candidate interview with its timings, answer counts, scores, ratings and "
        "funnel flags (responded, completed, reviewed): the grain most questions start from.",
        {
            "candidate_interview_id": "Gather id of the candidate interview.",
            "candidate_id": "Gather id of the candidate.",
            "interview_id": "Gather id of the interview (the question set).",
            "status": "Latest listed status (see candidate_interviews.status).",
            "created_date": "UTC date of created_at; the funnel's cohort date.",
            "created_at": "When the candidate interview was created (UTC).",
            "invite_sent_at": "When the invite was sent (UTC).",
            "taken_at": "When the candidate took the interview (UTC); null without results.",
            "is_deleted": "True when the interview no longer appears in the API's listing "
            "(soft delete; see candidate_interviews.is_deleted).",
            "hours_to_complete": "Hours from invite to answer: taken_at - invite_sent_at. "
            "Also set for partial answers; null when either time is unknown.",
            "questions_asked": "Questions in the results payload (transcription rows), "
            "answered or skipped; 0 without results.",
            "questions_answered": "Questions with a non-null transcription.",
            "questions_in_interview": "Distinct questions seen for this interview_id over all "
            "its candidates: the estimated size of the question set; null if none seen.",
            "mean_question_score": "Mean of the question-level scores (scores rows with a "
            "question_id), on their own scale; null when none.",
            "mean_question_score_pct": "Mean of score / max_score over the question-level "
            "scores, 0 to 1.",
            "scorecard_overall_score": "Score card overall score; null without a score card.",
            "scorecard_max_score": "Highest possible overall score of the score card.",
            "scorecard_evaluation_type": "How the score card was evaluated: ai_generated, "
            "manual, hybrid.",
            "ratings": "Number of reviewer ratings.",
            "mean_rating": "Mean reviewer rating; null when not rated.",
            "summary_available": "True when the AI summary is complete and present.",
            "responded": "The candidate answered at least one question: status new_response, "
            "has_reviewed, partially_completed or hired, or archived with at least one "
            "transcription row. invite_sent, expired and unknown statuses are false.",
            "completed": "The candidate answered the whole interview: status new_response, "
            "has_reviewed or hired, or archived with questions_asked >= questions_in_interview "
            "(Gather archives partial and complete answers alike, so archived is decided from "
            "the payload). partially_completed is false.",
            "reviewed": "A reviewer looked at it: status has_reviewed or hired, or archived with "
            "at least one rating.",
        },
        ("candidate_interviews", "transcriptions", "scores", "ratings", "scorecards", "summaries"),
    ),
    "funnel_daily": View(
        FUNNEL_DAILY_SQL,
        "The hiring funnel per created_date (cohort of invites created that UTC day): counts at "
        "each stage by the flags of interview_facts, and the conversion rates between them. "
        "Interviews deleted from the API are left out. A recent day's cohort is still moving "
        "through the funnel.",
        {
            "created_date": "UTC date the candidate interviews were created (the cohort).",
            "invited": "Candidate interviews created that day and not deleted (each is one "
            "invitation).",
            "responded": "Of those, answered at least one question (interview_facts.responded).",
            "completed": "Answered the whole interview (interview_facts.completed).",
            "partially_completed": "Responded but did not complete: responded - completed "
            "(includes partial answers later archived).",
            "expired": "Invitations whose status is expired (never answered in time).",
            "reviewed": "Reviewed by a person (interview_facts.reviewed).",
            "hired": "Status hired.",
            "archived": "Status archived (complete, partial or reviewed answers alike).",
            "response_rate": "responded / invited.",
            "completion_rate": "completed / invited.",
            "review_rate": "reviewed / completed; null when nothing completed.",
            "hire_rate": "hired / reviewed; null when nothing reviewed.",
        },
        ("interview_facts",),
    ),
    "criterion_scores": View(
        CRITERION_SCORES_SQL,
        "One row per score-card criterion (score card name, criterion id and name): how often "
        "it was scored, mean and spread, and the distribution of scores in five buckets of the "
        "criterion's max_score.",
        {
            "scorecard_name": "Name of the score card the criterion belongs to.",
            "criterion_id": "Gather id of the criterion.",
            "criterion": "Name of the criterion, e.g. 'Communication'.",
            "results": "Criterion results with a score.",
            "mean_score": "Mean score on the criterion's own scale.",
            "mean_score_pct": "Mean of score / max_score, 0 to 1 (comparable across scales).",
            "stddev_score": "Sample standard deviation of the score; null with one result.",
            "min_score": "Lowest score given.",
            "max_score": "Highest score given (not the scale's maximum).",
            "mean_weight": "Mean weight of the criterion in the overall score.",
            "scores_0_20": "Results scoring at most 20 % of max_score (1 on a 1-5 scale).",
            "scores_20_40": "Results above 20 % and at most 40 % of max_score (2 of 5).",
            "scores_40_60": "Results above 40 % and at most 60 % of max_score (3 of 5).",
            "scores_60_80": "Results above 60 % and at most 80 % of max_score (4 of 5).",
            "scores_80_100": "Results above 80 % of max_score (5 of 5).",
        },
        ("scorecards", "scorecard_results"),
    ),
    "time_in_status": View(
        TIME_IN_STATUS_SQL,
        "One row per candidate interview per status it was seen in by a listing pass, with how "
        "long it stayed there. Resolution is the time between runs: a status entered and left "
        "between two runs is never seen.",
        {
            "candidate_interview_id": "Gather id of the candidate interview.",
            "status": "A status the interview was listed with.",
            "first_seen": "First listing pass that saw it in this status (UTC).",
            "last_seen": "Last listing pass that saw it in this status (UTC).",
            "next_status": "The status it was seen in next; null while current.",
            "left_at": "first_seen of the next status; null while current.",
            "hours_in_status": "Hours from first_seen to left_at, or to last_seen while still "
            "in the status (a lower bound then).",
            "is_current": "True for the status it was last seen in.",
        },
        ("status_history",),
    ),
}


def existing_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views in the connection's main schema."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'main'"
    ).fetchall()
    return {name for (name,) in rows}


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every view whose tables exist (in dependency order); return the names created."""
    created: list[str] = []
    for name, view in VIEWS.items():
        present = existing_relations(con)
        if all(table in present for table in view.requires):
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {view.sql}')
            created.append(name)
    return created
