"""`GatherClient`: one httpx connection pool, the listing pass with drift reconciliation, the
results fan-out on a bounded thread pool, and the per-request policy (budget, retries, errors).

Pure httpx: no Dagster import (Dagster resources wrap this class).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_random_exponential

from humanly_pipeline.client.budget import RateBudget, Ticket, shared_budget
from humanly_pipeline.client.redact import LOGGER_NAME, REDACTOR, install_log_filter, redact
from humanly_pipeline.client.types import (
    ClientStats,
    GatherAuthError,
    GatherBudgetExhausted,
    GatherError,
    Listing,
    ProgressCallback,
    ProgressEvent,
    ResultOutcome,
)

log = logging.getLogger(LOGGER_NAME)

LIST_PATH = "/qsi/gather/candidate-interviews"
PAGE_LIMIT = 100  # the documented maximum
# Without any totals from the server, a listing stops at the first short/empty page; this cap
# only guards against a server that never sends one (10,000 pages = 1M interviews).
MAX_PAGES_WITHOUT_TOTALS = 10_000
MAX_RELISTS = 2
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
# When a 429 carries no usable reset time, wait this long (the burst window is one minute).
DEFAULT_429_WAIT = 60.0
# X-RateLimit-Reset has whole-second resolution: waiting a bit past it avoids an early retry.
RESET_PADDING = 1.0
MAX_WINDOW = 3600.0  # the longest documented window
PLAUSIBLE_SKEW = 120.0  # clock difference tolerated between the server and a reading of it
AUTH_MESSAGE = "Humanly API rejected the key (HTTP 401): check HUMANLY_API_KEY"
ERROR_TEXT_MAX = 300


class _CapReached(Exception):
    """max_requests is used up: no more requests in this run."""


class _ServerError(Exception):
    def __init__(self, reply: _Reply) -> None:
        super().__init__(f"HTTP {reply.status}")
        self.reply = reply


class _RateLimited(Exception):
    def __init__(self, reply: _Reply) -> None:
        super().__init__("HTTP 429")
        self.reply = reply


_RETRYABLE = (_ServerError, _RateLimited, httpx.TimeoutException, httpx.NetworkError,
              httpx.RemoteProtocolError)  # fmt: skip


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    payload: Any  # parsed JSON, or None when json_error is set
    json_error: str | None
    request_id: str | None
    server_time: datetime | None


class _ApiKeyAuth(httpx.Auth):
    """Adds the key per request, so it lives in no client-level header mapping that a repr or
    a debugger dump could show."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-api-key"] = self._key
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(key=***)"


def parse_timestamp(value: Any) -> datetime | None:
    """ISO-8601 with `Z`, `.000Z` or an offset -> aware UTC datetime; anything else -> None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _meta(payload: Any) -> dict[str, Any]:
    if isinstance(payload, dict):
        meta = payload.get("meta")
        if isinstance(meta, dict):
            return meta
    return {}


def _error_summary(reply: _Reply) -> str:
    """`CODE: message` from an error envelope, else the start of the body; redacted, short."""
    err = reply.payload.get("error") if isinstance(reply.payload, dict) else None
    if isinstance(err, dict):
        text = f"{err.get('code', '')}: {err.get('message', '')}".strip(": ")
    else:
        text = reply.body[:200].decode("utf-8", "replace")
    return redact(f"HTTP {reply.status} {text}".strip())[:ERROR_TEXT_MAX]


@dataclass
class _Pass:
    items: dict[str, dict[str, Any]]  # id -> item, first-seen order
    total: int | None
    pages: int
    duplicates: int
    server_time: datetime | None
    total_moved: bool  # the reported total changed between pages of this pass


class GatherClient:
    """Synchronous client of the Gather API. Thread-safe; one instance per run is the intent.

    `requests_per_hour` / `requests_per_minute`: 0 = that window is not limited client-side.
    `max_requests`: a cap on requests sent by this client (listing included); when reached,
    `fetch_results` stops cleanly and `stats.budget_exhausted`/`stats.not_attempted` say so.
    `limiter`: a `RateBudget` to draw from; by default the process-wide one for this base URL
    and key (see `budget.shared_budget`), or a private one when `clock`/`sleep` are injected.
    `clock`/`sleep` (monotonic seconds) drive the budget and the backoff; `server_clock`
    (Unix seconds) is what `X-RateLimit-Reset` is read against, when a test runs the server's
    limiter on a fake clock; normally the Date header is used. `window_margin_seconds`: how
    much longer than the server's each client-side window is (covers send-to-arrival jitter).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        requests_per_hour: int = 1000,
        requests_per_minute: int = 100,
        concurrency: int = 8,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_retries: int = 6,
        max_rate_limited_retries: int = 20,
        max_wait_seconds: float = 3900.0,
        max_requests: int | None = None,
        on_progress: ProgressCallback | None = None,
        transport: httpx.BaseTransport | None = None,
        limiter: RateBudget | None = None,
        server_clock: Callable[[], float] | None = None,
        window_margin_seconds: float = 1.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        install_log_filter()
        if not api_key:
            raise GatherAuthError("No Humanly API key given: set HUMANLY_API_KEY")
        REDACTOR.register(api_key)
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._concurrency = concurrency
        self._max_retries = max_retries
        self._max_429_retries = max_rate_limited_retries
        self._max_wait = max_wait_seconds
        self._max_requests = max_requests
        self._on_progress = on_progress
        self._sleep: Callable[[float], None] = sleep or time.sleep
        self._server_clock = server_clock
        self._backoff = wait_random_exponential(multiplier=backoff_base, max=backoff_max)
        if limiter is None:
            if clock is not None or sleep is not None:
                limiter = RateBudget(
                    requests_per_hour,
                    requests_per_minute,
                    margin_seconds=window_margin_seconds,
                    clock=clock or time.monotonic,
                    sleep=self._sleep,
                )
            else:
                limiter = shared_budget(
                    self._base_url,
                    api_key,
                    requests_per_hour,
                    requests_per_minute,
                    window_margin_seconds,
                )
        self.limiter = limiter
        self.stats = ClientStats()
        self._issued = 0
        self._wait_mark = float("-inf")
        self._issued_lock = threading.Lock()
        # One pool for everything, sized so that `concurrency` workers never queue for a socket.
        pool = httpx.Limits(
            max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2
        )
        self._http = httpx.Client(
            base_url=self._base_url,
            auth=_ApiKeyAuth(api_key),
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=read_timeout
            ),
            transport=transport or httpx.HTTPTransport(limits=pool, retries=0),
            headers={"accept": "application/json", "user-agent": "humanly-pipeline"},
            follow_redirects=False,
        )

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GatherClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GatherClient(base_url={self._base_url!r}, api_key=***)"

    # -- progress -----------------------------------------------------------------------------
    def _emit(self, event: ProgressEvent) -> None:
        if self._on_progress is None:
            return
        try:
            self._on_progress(event)
        except Exception:  # a broken progress display must not break the run
            log.warning("progress callback failed", exc_info=True)

    def _on_budget_wait(self, seconds: float, left: int | None) -> None:
        message = f"request budget spent: waiting {seconds:.0f}s for the rate-limit window"
        log.info(message)
        self._emit(
            ProgressEvent("waiting", requests_left=left, wait_seconds=seconds, message=message)
        )

    # -- one request, with budget and retries -------------------------------------------------
    def _reserve(self) -> None:
        with self._issued_lock:
            if self._max_requests is not None and self._issued >= self._max_requests:
                self.stats.mark_budget_exhausted()
                raise _CapReached
            self._issued += 1

    def _attempt(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any] | None,
        should_abort: Callable[[], bool] | None,
    ) -> _Reply:
        self._reserve()
        ticket = self.limiter.acquire(on_wait=self._on_budget_wait, should_abort=should_abort)
        if ticket.waited > 0.0:
            self._account_wait(ticket)
        try:
            response = self._http.get(path, params=params)
        except httpx.TimeoutException:
            self.stats.record_response(endpoint, "timeout", 0)
            raise
        except httpx.TransportError:
            self.stats.record_response(endpoint, "connection_error", 0)
            raise
        reply = self._reply(response)
        self.stats.record_response(endpoint, str(reply.status), len(reply.body))
        self._observe(ticket, response, reply)
        if reply.status == 401:
            raise GatherAuthError(AUTH_MESSAGE, http_status=401, request_id=reply.request_id)
        if reply.status == 429:
            self.limiter.block_until(self._reset_in(response, reply, for_429=True) or 0.0)
            raise _RateLimited(reply)
        if reply.status in RETRYABLE_STATUS:
            raise _ServerError(reply)
        return reply

    def _account_wait(self, ticket: Ticket) -> None:
        # Waits of concurrent workers overlap; count wall time once (union of the intervals,
        # which end in nearly the order they are reported) rather than once per thread.
        with self._issued_lock:
            start = max(ticket.sent_at - ticket.waited, self._wait_mark)
            if ticket.sent_at > start:
                self.stats.add_wait(ticket.sent_at - start)
            self._wait_mark = max(self._wait_mark, ticket.sent_at)

    @staticmethod
    @staticmethod
    def _reply(response: httpx.Response) -> _Reply:
        body = response.content
        payload: Any = None
        json_error: str | None = None
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            json_error = f"malformed JSON: {exc}"[:ERROR_TEXT_MAX]
        else:
            if b"inviteToken" in body:  # cheap test first: results bodies never carry one
                REDACTOR.learn(payload)
        meta = _meta(payload)
        request_id = meta.get("requestId")
        if not isinstance(request_id, str):
            request_id = response.headers.get("x-request-id")
        return _Reply(
            status=response.status_code,
            body=body,
            payload=payload,
            json_error=json_error,
            request_id=request_id,
            server_time=parse_timestamp(meta.get("timestamp")),
        )

    def _server_now_candidates(self, response: httpx.Response, reply: _Reply) -> list[float]:
        """Readings of the server's clock, most trusted first: an injected one (tests), the
        Date header, our own wall clock, then meta.timestamp (last: the sandbox's data clock is
        virtual and may be days away from the clock its rate limiter runs on)."""
        readings: list[float] = []
        if self._server_clock is not None:
            readings.append(self._server_clock())
        date = response.headers.get("date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                readings.append(parsedate_to_datetime(date).timestamp())
        readings.append(time.time())
        if reply.server_time is not None:
            readings.append(reply.server_time.timestamp())
        return readings

    def _reset_in(self, response: httpx.Response, reply: _Reply, *, for_429: bool) -> float | None:
        """Seconds until the server's window resets, bounded; None when nothing plausible."""
        reset_at: float | None = _as_int(response.headers.get("x-ratelimit-reset"))
        if reset_at is None and isinstance(reply.payload, dict):
            err = reply.payload.get("error")
            details = err.get("details") if isinstance(err, dict) else None
            if isinstance(details, dict):
                parsed = parse_timestamp(details.get("resetAt"))
                if parsed is not None:
                    reset_at = parsed.timestamp()
        seconds: float | None = None
        if reset_at is not None:
            for now in self._server_now_candidates(response, reply):
                # A rolling window resets within its length: anything else is another clock.
                if -PLAUSIBLE_SKEW <= reset_at - now <= MAX_WINDOW + PLAUSIBLE_SKEW:
                    seconds = reset_at - now
                    break
        if not for_429:
            return None if seconds is None else max(0.0, seconds)
        if seconds is None:
            seconds = DEFAULT_429_WAIT
        # The reset has whole-second resolution: retrying at it exactly can be a hair early.
        return min(max(seconds + RESET_PADDING, RESET_PADDING), self._max_wait)

    def _observe(self, ticket: Ticket, response: httpx.Response, reply: _Reply) -> None:
        remaining = _as_int(response.headers.get("x-ratelimit-remaining"))
        if remaining is None:
            return
        added = self.limiter.observe(
            ticket,
            limit=_as_int(response.headers.get("x-ratelimit-limit")),
            remaining=remaining,
            reset_in=self._reset_in(response, reply, for_429=False),
        )
        if added:
            self.stats.add_server_correction()

    def _call(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any] | None = None,
        should_abort: Callable[[], bool] | None = None,
    ) -> _Reply:
        """One logical request: budget, send, retry 429/5xx/timeouts/drops, bounded.

        Raises the last retryable error when retries are exhausted, GatherAuthError on 401,
        _CapReached when max_requests is used up, BudgetAborted when asked to stop.
        """
        failures = {"429": 0, "other": 0}

        def stop(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _RateLimited):
                failures["429"] += 1
                return failures["429"] > self._max_429_retries
            failures["other"] += 1
            return failures["other"] > self._max_retries

        def wait_for(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _RateLimited):
                return 0.0  # the shared budget itself holds every request until the reset
            return float(self._backoff(state))

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self.stats.add_retry()
            delay = state.upcoming_sleep
            what = str(exc) or type(exc).__name__
            message = redact(f"{endpoint}: {what}; retry {state.attempt_number} in {delay:.1f}s")
            log.info(message)
            self._emit(ProgressEvent("retry", wait_seconds=delay, message=message))

        retrying = Retrying(
            sleep=self._sleep,
            stop=stop,
            wait=wait_for,
            retry=retry_if_exception_type(_RETRYABLE),
            before_sleep=before_sleep,
            reraise=True,
        )
        reply: _Reply = retrying(self._attempt, endpoint, path, params, should_abort)
        return reply

    # -- listing ------------------------------------------------------------------------------
    def list_candidate_interviews(
        self,
        *,
        status: str | None = None,
        candidate_id: str | None = None,
        interview_id: str | None = None,
    ) -> Listing:
        """Every candidate interview matching the filters, de-duplicated, drift-reconciled.

        A pass pages with limit=100 and stops at `totalPages`, on an empty page, or (without
        totals) on a short page, and never asks beyond the first response's `totalPages + 1`.
        When the pass shows drift (unique ids != `total`, a repeated id, or a `total` that
        changed between pages) or no total was sent, up to two more passes run and their ids
        are unioned in. `reconciled` is True when the union matches the last
        total or the last pass was complete in itself (its ids match its own total: ids seen
        only in an earlier pass were removed on the server meanwhile and are kept, harmlessly).
        Raises GatherBudgetExhausted if max_requests ends the first pass.
        """
        filters = {
            k: v
            for k, v in (
                ("status", status),
                ("candidateId", candidate_id),
                ("interviewId", interview_id),
            )
            if v is not None
        }
        try:
            first = self._list_pass(filters)
        except _CapReached:
            raise GatherBudgetExhausted(
                "max_requests reached before the listing completed"
            ) from None
        union = dict(first.items)
        total = first.total
        pages, duplicates, passes = first.pages, first.duplicates, 1
        # A count that matches is not enough: a delete and a skip in the same pass cancel out.
        # A total that moved during the pass, or a repeated id, means the pages shifted.
        reconciled = (
            total is not None
            and len(union) == total
            and not first.total_moved
            and first.duplicates == 0
        )
        relisted = False
        while not reconciled and passes <= MAX_RELISTS:
            relisted = True
            log.info(
                "listing drift: %d unique ids vs total %s; re-listing (pass %d)",
                len(union),
                total,
                passes + 1,
            )
            before = len(union)
            try:
                again = self._list_pass(filters)
            except _CapReached:
                log.warning("max_requests reached during a reconciling re-list")
                break
            passes += 1
            pages += again.pages
            duplicates += again.duplicates
            union.update(again.items)  # new ids appended; known ids take the newest version
            if again.total is not None:
                total = again.total
            if total is not None:
                stable = not again.total_moved and again.duplicates == 0
                reconciled = len(union) == total or (stable and len(again.items) == again.total)
            else:  # nothing to compare with: agreement means a pass found nothing new
                reconciled = len(union) == before and len(again.items) == before
        if relisted:
            log.info(
                "listing re-listed: %d unique ids, total %s, reconciled=%s",
                len(union),
                total,
                reconciled,
            )
        return Listing(
            items=list(union.values()),
            total=total,
            pages_requested=pages,
            duplicates_dropped=duplicates,
            relisted=relisted,
            reconciled=reconciled,
            server_time=first.server_time,
            passes=passes,
        )

    def _list_pass(self, filters: dict[str, str]) -> _Pass:
        items: dict[str, dict[str, Any]] = {}
        duplicates = 0
        total_moved = False
        total: int | None = None
        server_time: datetime | None = None
        page_cap = MAX_PAGES_WITHOUT_TOTALS
        page = 1
        while True:
            reply = self._call(
                "list_candidate_interviews",
                LIST_PATH,
                {**filters, "page": page, "limit": PAGE_LIMIT},
            )
            self.stats.add_page()
            data, pagination = self._list_envelope(reply)
            page_total = _as_int(pagination.get("total"))
            total_pages = _as_int(pagination.get("totalPages"))
            if total_pages is None and page_total is not None:
                total_pages = math.ceil(page_total / PAGE_LIMIT)
            if page_total is not None:
                if total is not None and page_total != total:
                    total_moved = True
                total = page_total
            if page == 1:
                server_time = reply.server_time
                if total_pages is not None:
                    page_cap = total_pages + 1
            for item in data:
                item_id = item.get("id") if isinstance(item, dict) else None
                if not isinstance(item_id, str) or not item_id:
                    log.warning("listing page %d: item without an id skipped", page)
                    continue
                if item_id in items:
                    duplicates += 1
                item.pop("inviteToken", None)  # never expected here; never kept either
                items[item_id] = item
            self._emit(
                ProgressEvent(
                    "page",
                    done=page,
                    total=total_pages,
                    requests_left=self.limiter.remaining(),
                    message=f"listed page {page}" + (f"/{total_pages}" if total_pages else ""),
                )
            )
            if not data:
                break
            if total_pages is not None:
                if page >= total_pages:
                    break
            elif len(data) < PAGE_LIMIT:
                break
            if page + 1 > page_cap:
                break
            page += 1
        return _Pass(items, total, page, duplicates, server_time, total_moved)

    @staticmethod
    def _list_envelope(reply: _Reply) -> tuple[list[Any], dict[str, Any]]:
        if reply.status != 200:
            raise GatherError(
                f"listing failed: {_error_summary(reply)}",
                http_status=reply.status,
                request_id=reply.request_id,
            )
        if reply.json_error is not None or not isinstance(reply.payload, dict):
            raise GatherError(
                f"listing page is not a JSON object (request {reply.request_id})",
                http_status=reply.status,
                request_id=reply.request_id,
            )
        data = reply.payload.get("data")
        if not isinstance(data, list):
            raise GatherError(
                f"listing page has no `data` array (request {reply.request_id})",
                http_status=reply.status,
                request_id=reply.request_id,
            )
        pagination = _meta(reply.payload).get("pagination")
        return data, pagination if isinstance(pagination, dict) else {}

    # -- one candidate interview --------------------------------------------------------------
    def get_candidate_interview(self, id: str) -> dict[str, Any]:
        """The full object, with `inviteToken` removed (it is a credential)."""
        try:
            reply = self._call("get_candidate_interview", f"{LIST_PATH}/{quote(id, safe='')}")
        except _CapReached:
            raise GatherBudgetExhausted("max_requests reached") from None
        except _RETRYABLE as exc:
            raise GatherError(f"get_candidate_interview failed after retries: {exc}") from None
        data = reply.payload.get("data") if isinstance(reply.payload, dict) else None
        if reply.status != 200 or not isinstance(data, dict):
            raise GatherError(
                f"get_candidate_interview {id}: {_error_summary(reply)}",
                http_status=reply.status,
                request_id=reply.request_id,
            )
        data.pop("inviteToken", None)
        return data

    # -- results fan-out ----------------------------------------------------------------------
    def fetch_results(self, ids: Iterable[str]) -> Iterator[ResultOutcome]:
        """Results for every id, yielded in completion order.

        At most `concurrency` requests are in flight and at most `concurrency` outcomes are
        held; `ids` is consumed lazily. When max_requests is reached, in-flight requests finish,
        the rest of `ids` is counted into `stats.not_attempted`, and the iterator ends without
        raising. GatherAuthError is raised (fatal for the run); every other failure is a
        per-record "error" outcome.
        """
        total = len(ids) if isinstance(ids, Sized) else None
        source = iter(ids)
        abort = threading.Event()
        pending: dict[Future[ResultOutcome], str] = {}
        done = 0
        stop_submitting = False
        executor = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="gather")
        try:
            while True:
                # Refill before yielding so that workers stay busy while the caller works.
                while not stop_submitting and len(pending) < self._concurrency:
                    cid = next(source, None)
                    if cid is None:
                        stop_submitting = True
                        break
                    if self._cap_used_up():
                        self.stats.add_not_attempted()
                        stop_submitting = True
                        break
                    pending[executor.submit(self._fetch_one, cid, abort.is_set)] = cid
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                ready: list[ResultOutcome] = []
                for future in finished:
                    pending.pop(future)
                    try:
                        ready.append(future.result())
                    except _CapReached:
                        self.stats.add_not_attempted()
                        stop_submitting = True
                for outcome in ready:
                    done += 1
                    self.stats.add_outcome(outcome.kind)
                    self._emit(
                        ProgressEvent(
                            "result",
                            done=done,
                            total=total,
                            requests_left=self.limiter.remaining(),
                            message=f"{outcome.candidate_interview_id}: {outcome.kind}",
                        )
                    )
                    yield outcome
            if self.stats.budget_exhausted:
                rest = sum(1 for _ in source)
                self.stats.add_not_attempted(rest)
                log.warning(
                    "max_requests (%s) reached: %d results not attempted",
                    self._max_requests,
                    self.stats.not_attempted,
                )
        finally:
            abort.set()
            for future in pending:
                future.cancel()
            executor.shutdown(wait=True, cancel_futures=True)

    def _cap_used_up(self) -> bool:
        with self._issued_lock:
            used_up = self._max_requests is not None and self._issued >= self._max_requests
        if used_up:
            self.stats.mark_budget_exhausted()
        return used_up

    def _fetch_one(self, cid: str, should_abort: Callable[[], bool]) -> ResultOutcome:
        path = f"{LIST_PATH}/{quote(cid, safe='')}/results"
        try:
            reply = self._call("results", path, should_abort=should_abort)
        except (_ServerError, _RateLimited) as exc:
            last = exc.reply
            kind = "rate_limited" if isinstance(exc, _RateLimited) else "retries_exhausted"
            return self._error(cid, kind, f"gave up: {_error_summary(last)}", last)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            return self._error(cid, "retries_exhausted", f"gave up: {type(exc).__name__}: {exc}")
        except httpx.HTTPError as exc:  # e.g. a protocol the transport cannot speak
            return self._error(cid, "transport", f"{type(exc).__name__}: {exc}")
        return self._result_outcome(cid, reply)

    def _result_outcome(self, cid: str, reply: _Reply) -> ResultOutcome:
        if reply.status == 404:
            return ResultOutcome(
                cid,
                "not_found",
                body=None,
                data=None,
                fetched_at=reply.server_time or datetime.now(UTC),
                request_id=reply.request_id,
                http_status=404,
            )
        if reply.status != 200:
            return self._error(cid, "http_4xx", _error_summary(reply), reply, keep_body=False)
        if reply.json_error is not None:
            return self._error(cid, "malformed_json", reply.json_error, reply)
        data = reply.payload.get("data") if isinstance(reply.payload, dict) else None
        if not isinstance(data, dict):
            return self._error(cid, "bad_envelope", "response has no `data` object", reply)
        return ResultOutcome(
            cid,
            "ok",
            body=reply.body,
            data=data,
            fetched_at=reply.server_time or datetime.now(UTC),
            request_id=reply.request_id,
            http_status=200,
        )

    @staticmethod
    def _error(
        cid: str,
        kind: str,
        message: str,
        reply: _Reply | None = None,
        *,
        keep_body: bool = True,
    ) -> ResultOutcome:
        text = redact(message)[:ERROR_TEXT_MAX]
        log.warning(
            "results %s: %s (%s, request %s)",
            cid,
            text,
            kind,
            reply.request_id if reply else None,
        )
        return ResultOutcome(
            cid,
            "error",
            body=reply.body if reply is not None and keep_body else None,
            data=None,
            fetched_at=(reply.server_time if reply else None) or datetime.now(UTC),
            request_id=reply.request_id if reply else None,
            http_status=reply.status if reply else None,
            error=text,
            error_kind=kind,
        )
