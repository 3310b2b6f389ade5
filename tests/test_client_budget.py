"""The shared request budget (sliding windows, server corrections, sharing), on a fake clock."""

from __future__ import annotations

import threading

from humanly_pipeline.client import RateBudget, redact, shared_budget
from tests.test_client_fakes import AcceleratedClock, FakeClock


def budget(rph: int = 1000, rpm: int = 100, clock: FakeClock | None = None) -> RateBudget:
    clock = clock or FakeClock()
    return RateBudget(rph, rpm, clock=clock, sleep=clock.sleep)


def test_minute_window_then_hour_window() -> None:
    clock = FakeClock()
    b = budget(rph=250, rpm=100, clock=clock)
    sends = [b.acquire().sent_at for _ in range(251)]
    assert sends[99] == sends[0]  # the first 100 go at once
    # The 101st waits for the first to leave the (60 s + 1 s margin) window.
    assert sends[100] - sends[0] >= 61.0
    # Any 61 s span holds at most 100 sends; the 251st waits for the hour window.
    for i in range(len(sends) - 100):
        assert sends[i + 100] - sends[i] >= 61.0
    assert sends[250] - sends[0] >= 3601.0


def test_waiting_is_reported_once_per_wait_and_accounted() -> None:
    clock = FakeClock()
    b = budget(rph=0, rpm=2, clock=clock)
    calls: list[tuple[float, int | None]] = []
    for _ in range(3):
        b.acquire(on_wait=lambda s, left: calls.append((s, left)))
    assert len(calls) == 1 and 60.0 <= calls[0][0] <= 61.0 and calls[0][1] == 0
    assert 60.0 <= b.wait_seconds_total <= 61.5


def test_unlimited_budget_never_waits() -> None:
    clock = FakeClock()
    b = budget(rph=0, rpm=0, clock=clock)
    for _ in range(5000):
        b.acquire()
    assert clock.slept == 0 and b.remaining() is None and not b.limited


def test_server_remaining_corrects_down_once_not_per_response() -> None:
    clock = FakeClock()
    b = budget(rph=1000, rpm=100, clock=clock)
    # Another process already used 300 of the hour: eight concurrent responses all say so.
    tickets = [b.acquire() for _ in range(8)]
    for i, t in enumerate(tickets):
        b.observe(t, limit=1000, remaining=1000 - 300 - (i + 1), reset_in=1800.0)
    assert b.remaining() == 100 - 8  # the minute window is untouched
    hour = b._windows[1]
    assert len(hour.stamps) == 8 + 300
    # The server agreeing (or saying more remain) adds nothing.
    assert b.observe(b.acquire(), limit=1000, remaining=1000 - 309, reset_in=None) == 0
    # The phantoms expire when the server said its window resets, not a full hour later.
    clock.now += 1800.5
    hour.prune(clock())
    assert len(hour.stamps) == 9


def test_block_until_holds_every_caller() -> None:
    clock = FakeClock()
    b = budget(clock=clock)
    b.block_until(30.0)
    t = b.acquire()
    assert t.sent_at >= 1030.0 and t.waited >= 30.0


def test_window_holds_under_threads() -> None:
    clock = AcceleratedClock(speed=400)
    b = budget(rph=0, rpm=10, clock=clock)
    sends: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(4):
            t = b.acquire()
            with lock:
                sends.append(t.sent_at)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    sends.sort()
    assert len(sends) == 32
    for i in range(len(sends) - 10):
        assert sends[i + 10] - sends[i] >= 61.0


def test_shared_budget_per_key_and_redaction_helper() -> None:
    a = shared_budget("https://x.test/", "qapi_key_one_0001", 1000, 100)
    assert shared_budget("https://x.test", "qapi_key_one_0001", 1000, 100) is a
    assert shared_budget("https://x.test", "qapi_key_two_0002", 1000, 100) is not a
    assert redact('{"inviteToken": "abc123", "x": 1}') == '{"inviteToken": "***", "x": 1}'
    assert redact("url?inviteToken=abc123&x=1") == "url?inviteToken=***&x=1"
