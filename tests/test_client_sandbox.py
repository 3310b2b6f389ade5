"""The client against the sandbox over real HTTP: limits, 429s and every fault knob.

The sandbox's rate limiter and the client's budget share one accelerated clock (Unix seconds
running `speed` times faster), so minute and hour windows pass in a fraction of a second.
Assertions are on counts, ids and statuses, never on durations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from humanly_pipeline.client import GatherAuthError, GatherClient, ResultOutcome
from humanly_pipeline.sandbox import Faults, Sandbox


class EpochClock:
    """Unix seconds running `speed` times faster than real time, from now."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._t0 = time.time()
        self._m0 = time.monotonic()

    def __call__(self) -> float:
        return self._t0 + (time.monotonic() - self._m0) * self.speed

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)


def sandbox(
    interviews: int = 120,
    *,
    rph: int = 0,
    rpm: int = 0,
    faults: Faults | None = None,
    clock: EpochClock | None = None,
    seed: int = 11,
) -> Sandbox:
    clock = clock or EpochClock(1.0)
    return Sandbox(interviews=interviews, seed=seed, requests_per_hour=rph,
                   requests_per_minute=rpm, faults=faults, clock=clock)  # fmt: skip


def client(sb: Sandbox, clock: EpochClock | None = None, **kw: Any) -> GatherClient:
    clock = clock or EpochClock(1.0)
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("requests_per_hour", 0)
    kw.setdefault("requests_per_minute", 0)
    # The margin covers send-to-arrival jitter; on a clock running `speed` times faster the
    # same milliseconds of thread scheduling (GIL, a loaded CI box) are `speed` times more
    # clock seconds: 100 ms of real slack.
    kw.setdefault("window_margin_seconds", 0.1 * clock.speed)
    return GatherClient(sb.base_url, sb.api_key, clock=clock, sleep=clock.sleep,
                        server_clock=clock, **kw)  # fmt: skip


def answered_ids(sb: Sandbox) -> list[str]:
    return [i["id"] for i in sb.store.listing()]


def by_id(outcomes: Iterator[ResultOutcome] | list[ResultOutcome]) -> dict[str, ResultOutcome]:
    got = list(outcomes)
    result = {o.candidate_interview_id: o for o in got}
    assert len(result) == len(got)
    return result


def expected_kinds(sb: Sandbox, ids: list[str]) -> dict[str, str]:
    return {i: ("ok" if sb.store.results(i) is not None else "not_found") for i in ids}


def statuses(sb: Sandbox, endpoint: str) -> dict[int, int]:
    return sb.request_counts().get(endpoint, {})


def test_listing_and_results_match_ground_truth() -> None:
    with sandbox(230) as sb, client(sb, concurrency=8) as c:
        listing = c.list_candidate_interviews()
        ids = listing.ids
        assert ids == answered_ids(sb) and listing.total == 230 and listing.reconciled
        assert listing.pages_requested == 3 and not listing.relisted
        got = by_id(c.fetch_results(ids))
        assert {i: o.kind for i, o in got.items()} == expected_kinds(sb, ids)
        for i, o in got.items():
            if o.kind == "ok":
                assert o.data == sb.store.results(i) and o.fetched_at == sb.now
        assert statuses(sb, "results") == {200: len([o for o in got.values() if o.kind == "ok"]),
                                           404: len([o for o in got.values()
                                                     if o.kind == "not_found"])}  # fmt: skip
        assert c.stats.requests_total == 3 + 230


def test_filtered_listing() -> None:
    with sandbox(230) as sb, client(sb) as c:
        listing = c.list_candidate_interviews(status="invite_sent")
        assert listing.ids == [i["id"] for i in sb.store.listing(status="invite_sent")]


def test_at_server_limits_no_429_under_full_concurrency() -> None:
    clock = EpochClock(300)
    with sandbox(90, rpm=20, clock=clock) as sb:
        with client(sb, clock, requests_per_minute=20, concurrency=8) as c:
            ids = c.list_candidate_interviews().ids
            got = by_id(c.fetch_results(ids))
        assert set(got) == set(answered_ids(sb))
        assert 429 not in statuses(sb, "results") and 429 not in statuses(
            sb, "list_candidate_interviews"
        )
        assert c.stats.rate_limited_429 == 0 and c.stats.budget_wait_seconds > 0


def test_at_server_hour_and_minute_limits_no_429() -> None:
    clock = EpochClock(2000)
    with sandbox(30, rph=25, rpm=10, clock=clock) as sb:
        with client(sb, clock, requests_per_hour=25, requests_per_minute=10, concurrency=8) as c:
            ids = c.list_candidate_interviews().ids
            got = by_id(c.fetch_results(ids))
        assert set(got) == set(answered_ids(sb))
        assert all(429 not in v for v in sb.request_counts().values())
        assert c.stats.rate_limited_429 == 0 and sb.requests_spent() == 31


def test_above_server_limits_recovers_from_429_and_finishes() -> None:
    clock = EpochClock(300)
    with sandbox(60, rpm=10, clock=clock) as sb:
        waits: list[Any] = []
        with client(sb, clock, requests_per_minute=40, concurrency=8,
                    on_progress=lambda e: waits.append(e) if e.kind == "waiting" else None
                    ) as c:  # fmt: skip
            ids = c.list_candidate_interviews().ids
            got = by_id(c.fetch_results(ids))
        assert {i: o.kind for i, o in got.items()} == expected_kinds(sb, ids)
        assert statuses(sb, "results").get(429, 0) > 0 and c.stats.rate_limited_429 > 0
        assert waits  # it said it was waiting


def test_5xx_faults_are_retried() -> None:
    with sandbox(80, faults=Faults(error_rate=0.3)) as sb, client(sb, concurrency=8) as c:
        ids = c.list_candidate_interviews().ids
        got = by_id(c.fetch_results(ids))
        assert {i: o.kind for i, o in got.items()} == expected_kinds(sb, ids)
        served = statuses(sb, "results")
        assert served.get(500, 0) + served.get(502, 0) + served.get(503, 0) > 0
        assert c.stats.retries >= served.get(500, 0) + served.get(502, 0) + served.get(503, 0)


def test_dropped_connections_are_retried() -> None:
    with sandbox(60, faults=Faults(drop_rate=0.25)) as sb, client(sb, concurrency=6) as c:
        ids = c.list_candidate_interviews().ids
        got = by_id(c.fetch_results(ids))
        assert {i: o.kind for i, o in got.items()} == expected_kinds(sb, ids)
        assert statuses(sb, "results").get(0, 0) > 0  # 0 = dropped by the sandbox
        assert c.stats.requests_by_endpoint["results"].get("connection_error", 0) > 0


def test_read_timeouts_from_latency_are_retried() -> None:
    # About 4 in 10 responses take longer than the 0.25 s timeout; 10 retries make it
    # vanishingly unlikely (0.4**11) that an id never gets through, even on a loaded machine.
    faults = Faults(latency_ms=0, jitter_ms=400)
    with (
        sandbox(12, faults=faults) as sb,
        client(sb, concurrency=12, read_timeout=0.25, max_retries=10) as c,
    ):
        ids = answered_ids(sb)
        got = by_id(c.fetch_results(ids))
        assert {i: o.kind for i, o in got.items()} == expected_kinds(sb, ids)
        assert c.stats.requests_by_endpoint["results"].get("timeout", 0) > 0


def test_429_bursts_are_waited_out() -> None:
    clock = EpochClock(50)
    faults = Faults(burst_rate=0.05, burst_seconds=5)
    with sandbox(80, faults=faults, clock=clock) as sb, client(sb, clock, concurrency=8) as c:
        ids = c.list_candidate_interviews().ids
        got = by_id(c.fetch_results(ids))
        assert {i: o.kind for i, o in got.items()} == expected_kinds(sb, ids)
        assert c.stats.rate_limited_429 > 0


def test_malformed_bodies_become_typed_errors_with_the_raw_body() -> None:
    with sandbox(60) as probe:
        target = [i for i in answered_ids(probe) if probe.store.results(i) is not None][:2]
    faults = Faults(malformed_ids=frozenset(target), malformed_rate=0.1)
    with sandbox(60, faults=faults) as sb, client(sb) as c:
        ids = answered_ids(sb)
        got = by_id(c.fetch_results(ids))
        bad = {i for i, o in got.items() if o.error_kind == "malformed_json"}
        assert set(target) <= bad
        assert all(sb.dice.malformed(i) for i in bad)
        for i in bad:
            assert got[i].kind == "error" and got[i].body and got[i].http_status == 200
        assert c.stats.retries == 0  # a malformed body is not retried


def test_page_drift_gives_no_duplicate_and_no_missing_id() -> None:
    with sandbox(250, faults=Faults(page_drift=3)) as sb, client(sb) as c:
        before = set(answered_ids(sb))
        listing = c.list_candidate_interviews()
        after = set(answered_ids(sb))
        ids = listing.ids
        assert len(ids) == len(set(ids))
        assert before <= set(ids) <= after
        assert listing.duplicates_dropped > 0 and listing.relisted
        assert listing.passes <= 3


def test_shape_faults_pass_through_untouched() -> None:
    faults = Faults(extra_fields=True, numbers_as_strings=True, unknown_status_rate=0.2)
    with sandbox(80, faults=faults) as sb, client(sb) as c:
        listing = c.list_candidate_interviews()
        assert "on_hold" in {i["status"] for i in listing.items}
        ok = [o for o in c.fetch_results(listing.ids) if o.kind == "ok"]
        assert ok and all(o.data is not None and "aiInsights" in o.data for o in ok)


def test_wrong_key_is_a_clear_401() -> None:
    with sandbox(10) as sb:
        bad = GatherClient(sb.base_url, "qapi_definitely_wrong_0001", requests_per_hour=0,
                           requests_per_minute=0)  # fmt: skip
        with bad, pytest.raises(GatherAuthError) as err:
            bad.list_candidate_interviews()
        assert "HUMANLY_API_KEY" in str(err.value)
        assert "qapi_definitely_wrong_0001" not in str(err.value) + repr(err.value)


def test_max_requests_against_the_sandbox() -> None:
    with sandbox(150) as sb, client(sb, max_requests=50) as c:
        ids = c.list_candidate_interviews().ids
        got = list(c.fetch_results(ids))
        assert len(got) == 48 and c.stats.not_attempted == 150 - 48
        assert sb.requests_spent() == 50 and c.stats.budget_exhausted


def test_no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with sandbox(20, faults=Faults(error_rate=0.3, drop_rate=0.1)) as sb, client(sb) as c:
        ids = c.list_candidate_interviews().ids
        list(c.fetch_results(ids))
        full = c.get_candidate_interview(ids[0])
        stored = sb.store.candidate_interview(ids[0])
        assert stored is not None
        token = stored["inviteToken"]
        assert "inviteToken" not in full and full["id"] == ids[0]
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert sb.api_key not in text and token not in text
