"""Test doubles for the client tests (no tests here): fake clocks and an in-memory Gather API
behind `httpx.MockTransport` with knobs for drift, faults and a rolling-window rate limit."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

API_KEY = "qapi_TESTSECRET_9f8e7d6c5b4a"
BASE_URL = "https://gather.test"
LIST = "/qsi/gather/candidate-interviews"
EPOCH = datetime(2026, 3, 1, tzinfo=UTC)


class FakeClock:
    """Monotonic seconds that move only when someone sleeps (for single-threaded tests)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()
        self.slept = 0.0

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept += seconds
            self.now += max(0.0, seconds)


class AcceleratedClock(FakeClock):
    """Real monotonic time running `speed` times faster, for multi-threaded tests: parallel
    sleeps overlap as they would for real, and a one-minute window passes in 60/speed s."""

    def __init__(self, speed: float = 200.0) -> None:
        super().__init__()
        self.speed = speed
        self._start = time.monotonic()

    def __call__(self) -> float:
        return 1000.0 + (time.monotonic() - self._start) * self.speed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept += seconds
        time.sleep(max(0.0, seconds) / self.speed)


def make_items(n: int, status: str = "has_reviewed") -> list[dict[str, Any]]:
    return [
        {
            "id": str(uuid.UUID(int=i + 1)),
            "candidateId": str(uuid.UUID(int=10_000 + i)),
            "interviewId": str(uuid.UUID(int=20_000 + i % 3)),
            "status": status,
            "inviteSentAt": "2026-01-01T00:00:00Z",
            "createdAt": "2026-01-01T00:00:00.000Z",
        }
        for i in range(n)
    ]


class FakeGather:
    """A small Gather API. Hooks let a test change the data between page requests or inject
    faults per request; `sent` records (path, params) of every request that reached it."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        clock: FakeClock | None = None,
        rpm: int = 0,
        rph: int = 0,
        omit_total: bool = False,
        report_total: Callable[[int], int | None] | None = None,
        report_total_pages: Callable[[int, int], int | None] | None = None,
    ) -> None:
        self.items = list(items)
        self.clock = clock
        self.rpm, self.rph = rpm, rph
        self.omit_total = omit_total
        self.report_total = report_total
        self.report_total_pages = report_total_pages
        self.results: dict[str, dict[str, Any] | None] = {
            it["id"]: {"candidateInterviewId": it["id"], "summary": "s", "scores": []}
            for it in items
        }
        self.on_list_page: Callable[[FakeGather, int], None] | None = None
        # fault(path, attempt_no_for_this_path) -> Response | Exception | None
        self.fault: Callable[[str, int], httpx.Response | Exception | None] | None = None
        self.sent: list[tuple[str, dict[str, str]]] = []
        self.statuses: list[int] = []
        self.attempts: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrivals: deque[float] = deque()
        self.arrivals_hour: deque[float] = deque()
        self.timestamp_format = "%Y-%m-%dT%H:%M:%S.000Z"
        self.latency_hook: Callable[[], object] | None = None
        self._lock = threading.Lock()

    # -- helpers --
    def epoch_now(self) -> float:
        """The server's clock in Unix seconds (what X-RateLimit-Reset is relative to)."""
        return self.now().timestamp()

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=(self.clock() - 1000.0) if self.clock else 0.0)

    def meta(self, **extra: Any) -> dict[str, Any]:
        return {
            "requestId": str(uuid.uuid4()),
            "timestamp": self.now().strftime(self.timestamp_format),
            **extra,
        }

    def json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        return httpx.Response(status, content=orjson.dumps(body), headers=headers or {})

    def error(self, status: int, code: str, **details: Any) -> httpx.Response:
        return self.json(
            status, {"error": {"code": code, "message": code.lower(), "details": details},
                     "meta": self.meta()}
        )  # fmt: skip

    # -- the handler --
    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = self._handle(request)
            with self._lock:
                self.statuses.append(response.status_code)
            return response
        finally:
            with self._lock:
                self.in_flight -= 1

    def _rate_limit(self) -> httpx.Response | None:
        if not (self.rpm or self.rph) or self.clock is None:
            return None
        now = self.clock()
        with self._lock:
            while self.arrivals and self.arrivals[0] <= now - 60:
                self.arrivals.popleft()
            while self.arrivals_hour and self.arrivals_hour[0] <= now - 3600:
                self.arrivals_hour.popleft()
            over_min = self.rpm and len(self.arrivals) >= self.rpm
            over_hour = self.rph and len(self.arrivals_hour) >= self.rph
            if over_min or over_hour:
                oldest = self.arrivals[0] if over_min else self.arrivals_hour[0]
                reset = EPOCH.timestamp() + (oldest - 1000.0) + (60 if over_min else 3600)
                return self.json(
                    429,
                    {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down",
                               "details": {"limit": self.rpm, "remaining": 0}},
                     "meta": self.meta()},
                    {"X-RateLimit-Limit": str(self.rpm or self.rph),
                     "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(reset) + 1)},
                )  # fmt: skip
            self.arrivals.append(now)
            self.arrivals_hour.append(now)
        return None

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") != API_KEY:
            return self.error(401, "UNAUTHORIZED")
        path = request.url.path
        params = dict(request.url.params)
        with self._lock:
            self.sent.append((path, params))
            n = self.attempts[path] = self.attempts.get(path, 0) + 1
        limited = self._rate_limit()
        if limited is not None:
            return limited
        if self.fault is not None:
            injected = self.fault(path, n)
            if isinstance(injected, Exception):
                raise injected
            if injected is not None:
                return injected
        if self.latency_hook:
            self.latency_hook()
        if path == LIST:
            return self._list(params)
        if path.startswith(LIST + "/") and path.endswith("/results"):
            cid = path[len(LIST) + 1 : -len("/results")]
            data = self.results.get(cid)
            if data is None:
                return self.error(404, "NOT_FOUND", resource="results", id=cid)
            return self.json(200, {"data": data, "meta": self.meta()})
        if path.startswith(LIST + "/"):
            cid = path[len(LIST) + 1 :]
            for it in self.items:
                if it["id"] == cid:
                    full = {**it, "inviteToken": "INVITE-TOKEN-XYZ-123", "updatedAt": "x"}
                    return self.json(200, {"data": full, "meta": self.meta()})
            return self.error(404, "NOT_FOUND")
        return self.error(404, "NOT_FOUND")

    def _list(self, params: dict[str, str]) -> httpx.Response:
        page, limit = int(params.get("page", 1)), int(params.get("limit", 50))
        if self.on_list_page is not None:
            self.on_list_page(self, page)
        rows = [it for it in self.items if params.get("status") in (None, it["status"])]
        chunk = rows[(page - 1) * limit : page * limit]
        total: int | None = len(rows)
        total_pages: int | None = -(-len(rows) // limit)
        if self.report_total is not None:
            total = self.report_total(len(rows))
        if self.report_total_pages is not None:
            total_pages = self.report_total_pages(page, len(rows))
        pagination: dict[str, Any] = {"page": page, "limit": limit}
        if not self.omit_total:
            pagination.update(total=total, totalPages=total_pages)
        return self.json(200, {"data": chunk, "meta": self.meta(pagination=pagination)})

    def count(self, path_suffix: str = "") -> int:
        return sum(1 for p, _ in self.sent if p.endswith(path_suffix))
