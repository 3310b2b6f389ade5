"""Public value types of the client: errors, `Listing`, `ResultOutcome`, `ProgressEvent`,
and the thread-safe `ClientStats` counters that feed asset metadata and the CLI summary."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from humanly_pipeline.client.redact import redact


class GatherError(Exception):
    """Any failure of the Gather API that the client cannot turn into a per-record outcome.

    The message is redacted on construction, so neither str(), repr() nor a traceback can show
    the API key or an inviteToken.
    """

    def __init__(
        self, message: str, *, http_status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(redact(message))
        self.http_status = http_status
        self.request_id = request_id


class GatherAuthError(GatherError):
    """HTTP 401: the key is missing or rejected. Fatal for the run, never per-record."""


class GatherBudgetExhausted(GatherError):
    """`max_requests` was reached before the listing could complete (a partial listing would
    silently look like deleted interviews, so it is refused rather than returned)."""


@dataclass(frozen=True)
class Listing:
    items: list[dict[str, Any]] = field(repr=False)  # trimmed items, de-duplicated, first-seen
    total: int | None  # the server's last reported total
    pages_requested: int
    duplicates_dropped: int
    relisted: bool  # a reconciling re-list ran
    reconciled: bool  # after it, the ids agree with the server's total
    server_time: datetime | None  # meta.timestamp of the first page, UTC
    passes: int = 1

    @property
    def ids(self) -> list[str]:
        return [str(item["id"]) for item in self.items]


ResultKind = Literal["ok", "not_found", "error"]


@dataclass(frozen=True)
class ResultOutcome:
    candidate_interview_id: str
    kind: ResultKind
    # Raw body exactly as received, for "ok" and for unreadable "error"s (to land/quarantine).
    body: bytes | None = field(repr=False)
    data: dict[str, Any] | None = field(repr=False)  # parsed `data` for "ok"
    fetched_at: datetime  # server meta.timestamp when parseable, else wall clock, UTC
    request_id: str | None = None
    http_status: int | None = None
    error: str | None = None  # short, redacted
    # "malformed_json", "bad_envelope", "http_4xx", "retries_exhausted", "rate_limited"
    error_kind: str | None = None


ProgressKind = Literal["page", "result", "waiting", "retry"]


@dataclass(frozen=True)
class ProgressEvent:
    kind: ProgressKind
    done: int = 0
    total: int | None = None
    requests_left: int | None = None  # budget left in the tightest window, None = unlimited
    wait_seconds: float = 0.0
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


class ClientStats:
    """Counters of one client. Every method is thread-safe (one lock, held for microseconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: dict[str, dict[str, int]] = {}
        self._requests_total = 0
        self._retries = 0
        self._rate_limited_429 = 0
        self._budget_wait_seconds = 0.0
        self._bytes_received = 0
        self._budget_exhausted = False
        self._not_attempted = 0
        self._outcomes: dict[str, int] = {}
        self._pages = 0
        self._server_corrections = 0

    # -- recording (called by the client) ---------------------------------------------------
    def record_response(self, endpoint: str, status: str, nbytes: int) -> None:
        with self._lock:
            per = self._by_endpoint.setdefault(endpoint, {})
            per[status] = per.get(status, 0) + 1
            self._requests_total += 1
            self._bytes_received += nbytes
            if status == "429":
                self._rate_limited_429 += 1

    def add_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def add_wait(self, seconds: float) -> None:
        with self._lock:
            self._budget_wait_seconds += seconds

    def mark_budget_exhausted(self) -> None:
        with self._lock:
            self._budget_exhausted = True

    def add_not_attempted(self, n: int = 1) -> None:
        with self._lock:
            self._not_attempted += n

    def add_outcome(self, kind: str) -> None:
        with self._lock:
            self._outcomes[kind] = self._outcomes.get(kind, 0) + 1

    def add_page(self) -> None:
        with self._lock:
            self._pages += 1

    def add_server_correction(self) -> None:
        with self._lock:
            self._server_corrections += 1

    # -- reading ----------------------------------------------------------------------------
    @property
    def requests_by_endpoint(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {k: dict(v) for k, v in self._by_endpoint.items()}

    @property
    def requests_total(self) -> int:
        return self._requests_total

    @property
    def retries(self) -> int:
        return self._retries

    @property
    def rate_limited_429(self) -> int:
        return self._rate_limited_429

    @property
    def budget_wait_seconds(self) -> float:
        return self._budget_wait_seconds

    @property
    def bytes_received(self) -> int:
        return self._bytes_received

    @property
    def budget_exhausted(self) -> bool:
        return self._budget_exhausted

    @property
    def not_attempted(self) -> int:
        return self._not_attempted

    @property
    def outcomes(self) -> dict[str, int]:
        with self._lock:
            return dict(self._outcomes)

    def as_metadata(self) -> dict[str, Any]:
        """JSON-safe snapshot (str keys, int/float/bool/dict values) for Dagster metadata."""
        with self._lock:
            return {
                "requests_total": self._requests_total,
                "requests_by_endpoint": {k: dict(v) for k, v in self._by_endpoint.items()},
                "retries": self._retries,
                "rate_limited_429": self._rate_limited_429,
                "budget_wait_seconds": round(self._budget_wait_seconds, 3),
                "bytes_received": self._bytes_received,
                "budget_exhausted": self._budget_exhausted,
                "not_attempted": self._not_attempted,
                "outcomes": dict(self._outcomes),
                "pages_requested": self._pages,
                "server_budget_corrections": self._server_corrections,
            }

    def __repr__(self) -> str:
        return f"ClientStats({self.as_metadata()!r})"
