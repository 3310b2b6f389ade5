"""Deciding which interviews' results to fetch: the rules that make requests count.

Pure functions over the interview index and the fetch ledger. A results request is spent only on
an interview that
- has been answered (never on `invite_sent`, nor on `expired`: nobody answered those), and
- was never fetched, or changed status since its last fetch, or was last seen still pending
  (summary `processing`, no score card within SCORECARD_WAIT of being taken, or no results yet)
  and is due for a re-poll, or failed to load last time;
unless a full refresh asks for everything. "Now" is the API server's clock (its `meta.timestamp`),
so that a sandbox with a virtual clock and the real service are treated alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from humanly_pipeline.flatten import IndexRow, parse_timestamp
from humanly_pipeline.state import MALFORMED, NOT_FOUND, FetchRecord

# Statuses whose interviews nobody has answered: their results endpoint can only say 404.
NO_RESULTS_STATUSES = frozenset({"invite_sent", "expired"})


# A missing score card is worth waiting for only this long after the interview was taken: AI
# and hybrid evaluations are generated within hours to a few days; a manual one arrives with the
# review (a status change, which triggers a fetch anyway); and a tenant without the feature never
# gets one, so polling longer would re-buy every interview's results for nothing.
SCORECARD_WAIT = timedelta(days=4)


@dataclass(frozen=True)
class RepollPolicy:
    """When a still-changing payload is fetched again: 12 h, then doubling up to 4 days, and
    never after 7 days (a summary still processing by then is treated as final; a status change
    still triggers a fetch)."""

    first_interval: timedelta = timedelta(hours=12)
    max_interval: timedelta = timedelta(days=4)
    give_up_after: timedelta = timedelta(days=7)

    def next_poll(
        self, fetched_at: datetime, first_fetched_at: datetime, polls: int
    ) -> datetime | None:
        if fetched_at - first_fetched_at >= self.give_up_after:
            return None
        interval = min(self.first_interval * (2 ** max(polls - 1, 0)), self.max_interval)
        return fetched_at + interval


@dataclass
class FetchPlan:
    to_fetch: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def payload_pending(data: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether a results payload (fetched at `now`, the API's clock) is expected to change
    without a status change: its summary is still processing, or it was taken recently enough
    that its score card may still come."""
    if not isinstance(data, Mapping):
        return True
    if data.get("summaryStatus") == "processing":
        return True
    if data.get("scoreCard"):
        return False
    taken = parse_timestamp(data.get("takenAt"))
    return taken is None or now - taken < SCORECARD_WAIT


def plan_fetches(
    rows: Sequence[IndexRow],
    ledger: Mapping[str, FetchRecord],
    now: datetime,
    *,
    full_refresh: bool = False,
) -> FetchPlan:
    plan = FetchPlan()
    for row in rows:
        reason = _reason(row, ledger.get(row.candidate_interview_id), now, full_refresh)
        if reason.startswith("skip:"):
            plan.skipped[reason[5:]] += 1
        else:
            plan.to_fetch.append(row.candidate_interview_id)
            plan.reasons[reason] += 1
    return plan


def _reason(row: IndexRow, last: FetchRecord | None, now: datetime, full_refresh: bool) -> str:
    if row.status in NO_RESULTS_STATUSES:
        return "skip:not_answered"
    if full_refresh:
        return "full_refresh"
    if last is None:
        return "new"
    if last.status_at_fetch != row.status:
        return "status_changed"
    if last.outcome == MALFORMED and _due(last, now):
        return "retry_malformed"
    if last.pending and _due(last, now):
        return "pending" if last.outcome != NOT_FOUND else "pending_not_found"
    return "skip:unchanged" if not last.pending else "skip:pending_not_due"


def _due(last: FetchRecord, now: datetime) -> bool:
    return last.next_poll_at is not None and last.next_poll_at <= now
