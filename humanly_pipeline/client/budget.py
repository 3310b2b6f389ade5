"""The request budget: one sliding-window limiter per API key, shared by every thread and
every client of the process that uses that key.

Why not pyrate-limiter (installed): its buckets keep all rates in one item log, so usage learned
from the server (`X-RateLimit-Remaining`) cannot be recorded against the hour window without
also filling the minute window; it has no non-recording "would this fit" check across several
buckets; and its blocking `Limiter` sleeps with `time.sleep` on the real clock, with no hook to
report a wait or to abort it. All three are needed here, and a sliding-window log is ~50 lines.

Semantics:
- a request is counted in every window at the moment it is *sent* (`acquire`), retries too;
- each window is `margin_seconds` longer than the server's (default 1 s): the server counts
  arrivals, we count departures, and network jitter can move two sends that are exactly one
  window apart to less than one window apart at the server;
- `observe()` corrects *down* from `X-RateLimit-Remaining` (another process on the same key):
  the server's figure is compared with our binding (fewest-left) window as it was when that
  request was sent; a shortfall is recorded there as phantom requests that expire at the
  server's reset time. Never corrected up: the server having more left changes nothing;
- `block_until()` (after a 429) holds every caller until the server's reset.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from humanly_pipeline.client.redact import LOGGER_NAME

log = logging.getLogger(LOGGER_NAME)

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# A waiter re-checks at least this often: to notice an abort and windows freed by others.
_MAX_SLEEP_CHUNK = 1.0


class BudgetAborted(Exception):
    """Raised inside a waiting `acquire` when its caller asked to stop (run ending)."""


class _Window:
    __slots__ = ("limit", "phantoms", "seconds", "stamps")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: list[float] = []  # send times, sorted
        self.phantoms = 0  # running total of phantom requests ever added (for de-duplication)

    def prune(self, now: float) -> None:
        cut = bisect.bisect_right(self.stamps, now - self.seconds)
        if cut:
            del self.stamps[:cut]

    def wait(self, now: float) -> float:
        excess = len(self.stamps) - self.limit
        if excess < 0:
            return 0.0
        # The request that must leave the window before one more fits.
        return max(0.0, self.stamps[excess] + self.seconds - now)

    def remaining(self) -> int:
        return max(0, self.limit - len(self.stamps))


@dataclass(frozen=True)
class Ticket:
    """What the budget looked like right after a request was counted (for `observe`)."""

    remaining: tuple[int, ...]  # per window, after counting this request
    phantoms: tuple[int, ...]  # per window, phantom total at send time
    sent_at: float = 0.0  # on the budget's clock
    waited: float = 0.0  # seconds this request waited for the budget


class RateBudget:
    """Sliding-window budget over several windows (per minute and per hour). Thread-safe."""

    def __init__(
        self,
        requests_per_hour: int = 1000,
        requests_per_minute: int = 100,
        *,
        margin_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.requests_per_hour = requests_per_hour
        self.requests_per_minute = requests_per_minute
        self._windows: list[_Window] = []
        if requests_per_minute > 0:  # 0 = unlimited: that window does not exist
            self._windows.append(_Window(requests_per_minute, 60.0 + margin_seconds))
        if requests_per_hour > 0:
            self._windows.append(_Window(requests_per_hour, 3600.0 + margin_seconds))
        self._blocked_until = 0.0
        self._waiters = 0
        self._wait_started = 0.0
        self._wait_total = 0.0
        self._sent = 0

    # -- introspection ----------------------------------------------------------------------
    @property
    def limited(self) -> bool:
        return bool(self._windows)

    @property
    def sent(self) -> int:
        return self._sent

    @property
    def wait_seconds_total(self) -> float:
        """Wall time (on this budget's clock) during which at least one request was waiting."""
        with self._lock:
            extra = self._clock() - self._wait_started if self._waiters else 0.0
            return self._wait_total + extra

    def remaining(self) -> int | None:
        """Requests that may be sent now in the tightest window; None when unlimited."""
        with self._lock:
            now = self._clock()
            for w in self._windows:
                w.prune(now)
            return min((w.remaining() for w in self._windows), default=None)

    def _wait_locked(self, now: float) -> float:
        wait = max(0.0, self._blocked_until - now)
        for w in self._windows:
            w.prune(now)
            wait = max(wait, w.wait(now))
        return wait

    # -- acquiring --------------------------------------------------------------------------
    def acquire(
        self,
        *,
        on_wait: Callable[[float, int | None], None] | None = None,
        should_abort: Callable[[], bool] | None = None,
    ) -> Ticket:
        """Block until one request fits in every window, count it, and return a ticket.

        `on_wait(seconds, remaining)` is called when this caller starts waiting (and again if
        the expected wait grows by more than a second, e.g. after a 429 elsewhere).
        """
        waiting = False
        announced_until = -1.0
        started = self._clock()
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    wait = self._wait_locked(now)
                    if wait <= 0.0:
                        for w in self._windows:
                            bisect.insort(w.stamps, now)
                        self._sent += 1
                        return Ticket(
                            remaining=tuple(w.remaining() for w in self._windows),
                            phantoms=tuple(w.phantoms for w in self._windows),
                            sent_at=now,
                            waited=now - started if waiting else 0.0,
                        )
                    if not waiting:
                        waiting = True
                        if self._waiters == 0:
                            self._wait_started = now
                        self._waiters += 1
                    left = min((w.remaining() for w in self._windows), default=None)
                if on_wait is not None and now + wait > announced_until + 1.0:
                    announced_until = now + wait
                    on_wait(wait, left)
                if should_abort is not None and should_abort():
                    raise BudgetAborted
                self._sleep(min(wait, _MAX_SLEEP_CHUNK))
        finally:
            if waiting:
                with self._lock:
                    self._waiters -= 1
                    if self._waiters == 0:
                        self._wait_total += self._clock() - self._wait_started

    # -- corrections from the server --------------------------------------------------------
    def observe(
        self,
        ticket: Ticket | None,
        *,
        limit: int | None,
        remaining: int | None,
        reset_in: float | None,
    ) -> int:
        """Trust the server when it says fewer requests remain than we think. Returns the
        number of phantom requests recorded (0 when the server agrees or has more left)."""
        if remaining is None or not self._windows:
            return 0
        with self._lock:
            now = self._clock()
            # Which window the header describes is not documented (the sandbox reports the
            # binding one, with the hourly limit in X-RateLimit-Limit): compare it with our
            # binding window, so that a tighter minute window is never mistaken for an hour
            # window the server has nearly used up.
            ours_by_window: list[int] = []
            for i, win in enumerate(self._windows):
                win.prune(now)
                if ticket is not None:
                    # Our view when this request was sent, minus phantoms that responses to
                    # other requests have added since for the same shortfall.
                    ours_by_window.append(ticket.remaining[i] - (win.phantoms - ticket.phantoms[i]))
                else:
                    ours_by_window.append(win.remaining())
            idx = min(range(len(self._windows)), key=ours_by_window.__getitem__)
            if reset_in is not None and reset_in > self._windows[0].seconds:
                # A reset further away than a minute can only be the longest window's.
                idx = len(self._windows) - 1
            w = self._windows[idx]
            ours = ours_by_window[idx]
            deficit = min(ours - remaining, w.remaining())
            if deficit <= 0:
                return 0
            # Phantoms expire when the server says its window resets (rolling window: this is
            # when its oldest counted request leaves); without a reset they last a full window.
            stamp = now if reset_in is None else now + max(0.0, reset_in) - w.seconds
            stamp = min(now, max(stamp, now - w.seconds + 0.001))
            for _ in range(deficit):
                bisect.insort(w.stamps, stamp)
            w.phantoms += deficit
        log.info(
            "server reports %d requests left (limit header %s), %d fewer than counted here "
            "in the %d-request window: another client may share this key; slowing down",
            remaining,
            limit,
            deficit,
            w.limit,
        )
        return deficit

    def block_until(self, seconds_from_now: float) -> None:
        """Hold every caller of this budget for `seconds_from_now` (after a 429)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds_from_now)


# -- process-wide sharing ---------------------------------------------------------------------
_REGISTRY: weakref.WeakValueDictionary[str, RateBudget] = weakref.WeakValueDictionary()
_REGISTRY_LOCK = threading.Lock()


def shared_budget(
    base_url: str,
    api_key: str,
    requests_per_hour: int,
    requests_per_minute: int,
    margin_seconds: float = 1.0,
) -> RateBudget:
    """The one budget of this process for (base_url, key): the server limits per key, so every
    client using the key must draw from the same windows. Kept while any client holds it."""
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\0{api_key}".encode()).hexdigest()
    with _REGISTRY_LOCK:
        budget = _REGISTRY.get(digest)
        if budget is None:
            budget = RateBudget(
                requests_per_hour, requests_per_minute, margin_seconds=margin_seconds
            )
            _REGISTRY[digest] = budget
        elif (budget.requests_per_hour, budget.requests_per_minute) != (
            requests_per_hour,
            requests_per_minute,
        ):
            log.warning(
                "a budget for this key already exists with %d/h %d/min; sharing it (the "
                "server counts per key) instead of the requested %d/h %d/min",
                budget.requests_per_hour,
                budget.requests_per_minute,
                requests_per_hour,
                requests_per_minute,
            )
        return budget
