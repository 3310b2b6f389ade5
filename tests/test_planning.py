"""Which interviews cost a results request: the fetch rules of planning.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from humanly_pipeline.flatten import IndexRow
from humanly_pipeline.planning import RepollPolicy, payload_pending, plan_fetches
from humanly_pipeline.state import MALFORMED, NOT_FOUND, OK, FetchRecord

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def row(i: str, status: str) -> IndexRow:
    return IndexRow(i, "c", "iv", status, NOW, NOW, date(2026, 5, 30))


def rec(
    i: str,
    status: str,
    *,
    outcome: str = OK,
    pending: bool = False,
    next_poll: datetime | None = None,
) -> FetchRecord:
    return FetchRecord(
        i,
        status,
        outcome,
        NOW - timedelta(days=1),
        NOW - timedelta(days=1),
        200,
        "r",
        "ref",
        pending,
        1,
        next_poll,
    )


def test_each_rule_decides_as_documented() -> None:
    rows = [
        row("invite", "invite_sent"),
        row("expired", "expired"),
        row("new", "new_response"),
        row("same", "has_reviewed"),
        row("moved", "hired"),
        row("pending_due", "new_response"),
        row("pending_later", "new_response"),
        row("pending_given_up", "new_response"),
        row("malformed", "new_response"),
        row("nf", "new_response"),
    ]
    ledger = {
        "same": rec("same", "has_reviewed"),
        "moved": rec("moved", "has_reviewed"),
        "pending_due": rec("pending_due", "new_response", pending=True, next_poll=NOW),
        "pending_later": rec(
            "pending_later", "new_response", pending=True, next_poll=NOW + timedelta(hours=1)
        ),
        "pending_given_up": rec("pending_given_up", "new_response", pending=True, next_poll=None),
        "malformed": rec(
            "malformed",
            "new_response",
            outcome=MALFORMED,
            pending=True,
            next_poll=NOW - timedelta(hours=1),
        ),
        "nf": rec("nf", "new_response", outcome=NOT_FOUND, pending=True, next_poll=NOW),
    }
    plan = plan_fetches(rows, ledger, NOW)
    assert plan.to_fetch == ["new", "moved", "pending_due", "malformed", "nf"]
    assert plan.reasons == {
        "new": 1,
        "status_changed": 1,
        "pending": 1,
        "retry_malformed": 1,
        "pending_not_found": 1,
    }
    assert plan.skipped == {"not_answered": 2, "unchanged": 1, "pending_not_due": 2}


def test_full_refresh_fetches_every_answered_interview_but_never_invites() -> None:
    rows = [row("a", "invite_sent"), row("b", "has_reviewed"), row("c", "hired")]
    plan = plan_fetches(rows, {"b": rec("b", "has_reviewed")}, NOW, full_refresh=True)
    assert plan.to_fetch == ["b", "c"]
    assert plan.skipped == {"not_answered": 1}


def test_pending_payloads() -> None:
    card = {"id": "x"}
    recent = (NOW - timedelta(days=1)).isoformat()
    old = (NOW - timedelta(days=5)).isoformat()
    assert payload_pending({"summaryStatus": "processing", "scoreCard": card}, NOW)
    assert payload_pending({"summaryStatus": "processing", "scoreCard": card, "takenAt": old}, NOW)
    # No score card: worth waiting for a few days after the interview was taken, not forever.
    assert payload_pending({"summaryStatus": "complete", "scoreCard": None, "takenAt": recent}, NOW)
    assert not payload_pending(
        {"summaryStatus": "complete", "scoreCard": None, "takenAt": old}, NOW
    )
    assert payload_pending({"summaryStatus": "complete", "scoreCard": None}, NOW)  # no takenAt
    assert payload_pending(None, NOW)
    assert not payload_pending({"summaryStatus": "complete", "scoreCard": card}, NOW)
    assert not payload_pending({"summaryStatus": "error", "scoreCard": card}, NOW)


def test_repoll_schedule_doubles_then_caps_then_gives_up() -> None:
    policy = RepollPolicy()
    first = NOW
    gaps = [policy.next_poll(first, first, polls) - first for polls in (1, 2, 3, 4, 5, 6)]  # type: ignore[operator]
    assert gaps == [timedelta(hours=h) for h in (12, 24, 48, 96, 96, 96)]
    assert policy.next_poll(first + timedelta(days=7), first, 9) is None
