"""Sandbox rate limits: rolling minute and hour windows, headers, 429 bodies (fake clock)."""

from __future__ import annotations

import math

from humanly_pipeline.sandbox.data import iso
from tests.sandbox_fixtures import LIST, FakeClock, running


def _headers(r: object) -> tuple[int, int, int]:
    h = r.headers  # type: ignore[attr-defined]
    return int(h["x-ratelimit-limit"]), int(h["x-ratelimit-remaining"]), int(h["x-ratelimit-reset"])


def test_101st_request_within_a_minute_gets_429_with_correct_headers() -> None:
    clock = FakeClock(1_700_000_000.25)
    with running(interviews=30, requests_per_hour=1000, requests_per_minute=100, clock=clock) as (
        sb,
        client,
    ):
        t0 = clock()
        for i in range(100):
            r = client.get(LIST, params={"limit": 5})
            assert r.status_code == 200
            limit, remaining, reset = _headers(r)
            assert limit == 1000
            assert remaining == 99 - i  # the minute window binds before the hour window
            assert reset == math.ceil(t0 + 60)
            clock.tick(0.1)
        r = client.get(LIST, params={"limit": 5})
        assert r.status_code == 429
        body = r.json()
        assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert body["error"]["details"] == {
            "limit": 1000,
            "remaining": 0,
            "resetAt": iso(t0 + 60, millis=True),
        }
        assert _headers(r) == (1000, 0, math.ceil(t0 + 60))
        assert sb.request_counts()["list_candidate_interviews"] == {200: 100, 429: 1}
        assert sb.requests_spent() == 100  # the 429 did not spend budget

        # One second after the first request leaves the window, one slot is free again.
        clock.t = t0 + 60
        ok = client.get(LIST, params={"limit": 5})
        assert ok.status_code == 200
        assert _headers(ok)[1] == 0  # 99 still in the window, plus this one
        assert client.get(LIST, params={"limit": 5}).status_code == 429
        clock.t = t0 + 60 + 10  # the whole first batch has left
        r = client.get(LIST, params={"limit": 5})
        assert r.status_code == 200
        assert _headers(r)[1] == 100 - 2  # the request at t0+60 and this one
        assert sb.requests_spent() == 102


def test_hourly_limit_binds_when_smaller() -> None:
    clock = FakeClock()
    with running(interviews=10, requests_per_hour=5, requests_per_minute=100, clock=clock) as (
        sb,
        client,
    ):
        t0 = clock()
        remaining = []
        for _ in range(5):
            r = client.get(LIST)
            remaining.append(_headers(r)[1])
            clock.tick(120)  # always a fresh minute window
        assert remaining == [4, 3, 2, 1, 0]
        r = client.get(LIST)
        assert r.status_code == 429
        assert r.json()["error"]["details"]["resetAt"] == iso(t0 + 3600, millis=True)
        assert _headers(r) == (5, 0, math.ceil(t0 + 3600))
        clock.t = t0 + 3600
        assert client.get(LIST).status_code == 200
        assert sb.request_counts()["list_candidate_interviews"] == {200: 6, 429: 1}


def test_per_minute_only_and_rolling_window() -> None:
    clock = FakeClock(1000.0)
    with running(interviews=10, requests_per_hour=0, requests_per_minute=3, clock=clock) as (
        _,
        client,
    ):
        for _ in range(3):
            assert client.get(LIST).status_code == 200
            clock.tick(20)
        # t = 1060: the request at 1000 has just left the rolling minute.
        r = client.get(LIST)
        assert r.status_code == 200
        assert _headers(r) == (3, 0, 1080)  # limit = per-minute when hourly is 0
        r = client.get(LIST)
        assert r.status_code == 429
        assert r.json()["error"]["details"]["limit"] == 3


def test_zero_means_unlimited() -> None:
    with running(interviews=10, requests_per_hour=0, requests_per_minute=0) as (sb, client):
        for _ in range(150):
            r = client.get(LIST, params={"limit": 1})
            assert r.status_code == 200
        limit, remaining, _ = _headers(r)
        assert limit == remaining == 1_000_000
        assert sb.requests_spent() == 150


def test_headers_on_every_response_and_free_requests() -> None:
    clock = FakeClock()
    with running(interviews=10, requests_per_hour=1000, requests_per_minute=2, clock=clock) as (
        sb,
        client,
    ):
        responses = [
            client.get("/_sandbox/stats"),
            client.post("/_sandbox/advance", params={"days": 0}),
            client.get("/qsi/gather/unknown"),
            client.get(LIST, headers={"x-api-key": "qapi_nope"}),
            client.get(LIST, params={"limit": 1000}),  # 400: spent
            client.get(f"{LIST}/00000000-0000-4000-8000-000000000000"),  # 404: spent
            client.get(LIST),  # 429
        ]
        assert [r.status_code for r in responses] == [200, 200, 404, 401, 400, 404, 429]
        for r in responses:
            assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
                r.headers
            )
        assert sb.requests_spent() == 2
        assert _headers(responses[0])[1] == 2  # admin and auth failures spend nothing
        sb.reset_rate_limits()
        assert client.get(LIST).status_code == 200
