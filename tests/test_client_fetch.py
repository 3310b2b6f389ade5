"""Results fan-out, retries, errors, budget cap and redaction, over httpx.MockTransport."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from humanly_pipeline.client import (
    GatherAuthError,
    GatherClient,
    GatherError,
    ProgressEvent,
    ResultOutcome,
)
from tests.test_client_fakes import (
    API_KEY,
    BASE_URL,
    LIST,
    AcceleratedClock,
    FakeClock,
    FakeGather,
    make_items,
)


def client_for(server: FakeGather, clock: FakeClock | None = None, **kw: Any) -> GatherClient:
    clock = clock or server.clock or FakeClock()
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("server_clock", server.epoch_now)
    return GatherClient(
        BASE_URL,
        API_KEY,
        transport=httpx.MockTransport(server),
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )


def by_id(outcomes: list[ResultOutcome]) -> dict[str, ResultOutcome]:
    result = {o.candidate_interview_id: o for o in outcomes}
    assert len(result) == len(outcomes)
    return result


def results_path(cid: str) -> str:
    return f"{LIST}/{cid}/results"


def test_outcome_kinds_bodies_and_server_time() -> None:
    items = make_items(6)
    ids = [it["id"] for it in items]
    server = FakeGather(items)
    server.results[ids[1]] = None  # not answered yet -> 404
    bad = {ids[2]: b'{"data": {"oops"', ids[3]: b'{"meta": {"requestId": "rq-3"}}',
           ids[4]: b'[1, 2]'}  # fmt: skip

    def fault(path: str, n: int) -> httpx.Response | None:
        for cid, body in bad.items():
            if path == results_path(cid):
                return httpx.Response(200, content=body)
        if path == results_path(ids[5]):
            return server.error(400, "VALIDATION_ERROR", field="id")
        return None

    server.fault = fault
    with client_for(server, concurrency=3) as client:
        got = by_id(list(client.fetch_results(ids)))
    ok = got[ids[0]]
    assert ok.kind == "ok" and ok.data == server.results[ids[0]] and ok.http_status == 200
    assert ok.body is not None and orjson.loads(ok.body)["data"] == ok.data
    assert ok.fetched_at == datetime(2026, 3, 1, tzinfo=UTC) and ok.request_id
    assert got[ids[1]].kind == "not_found" and got[ids[1]].http_status == 404
    assert got[ids[1]].request_id is not None
    malformed = got[ids[2]]
    assert (malformed.kind, malformed.error_kind) == ("error", "malformed_json")
    assert malformed.body == bad[ids[2]]  # raw bytes kept for quarantine
    assert got[ids[3]].error_kind == "bad_envelope" and got[ids[3]].request_id == "rq-3"
    assert got[ids[4]].error_kind == "bad_envelope"
    assert got[ids[5]].error_kind == "http_4xx" and got[ids[5]].http_status == 400
    # Other 4xx are not retried; nothing here was.
    assert all(server.attempts[results_path(i)] == 1 for i in ids)
    assert client.stats.retries == 0
    assert client.stats.requests_by_endpoint["results"] == {"200": 4, "404": 1, "400": 1}
    assert client.stats.outcomes == {"ok": 1, "not_found": 1, "error": 4}


def test_fetched_at_accepts_both_timestamp_forms() -> None:
    items = make_items(1)
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.000Z"):
        server = FakeGather(items)
        server.timestamp_format = fmt
        with client_for(server) as client:
            (outcome,) = client.fetch_results([items[0]["id"]])
        assert outcome.fetched_at == datetime(2026, 3, 1, tzinfo=UTC)


def test_5xx_timeouts_and_drops_are_retried_then_succeed() -> None:
    items = make_items(5)
    ids = [it["id"] for it in items]
    server = FakeGather(items)
    faults: dict[str, Any] = {
        ids[0]: lambda: server.error(500, "INTERNAL_ERROR"),
        ids[1]: lambda: httpx.Response(502, content=b"<html>bad gateway</html>"),
        ids[2]: lambda: server.error(503, "UNAVAILABLE"),
        ids[3]: lambda: httpx.ReadTimeout("read timed out"),
        ids[4]: lambda: httpx.RemoteProtocolError("Server disconnected without a response"),
    }

    def fault(path: str, n: int) -> httpx.Response | Exception | None:
        for cid, make in faults.items():
            if path == results_path(cid) and n <= 2:  # fail twice, then answer
                result: httpx.Response | Exception = make()
                return result
        return None

    server.fault = fault
    events: list[ProgressEvent] = []
    with client_for(server, on_progress=events.append) as client:
        got = by_id(list(client.fetch_results(ids)))
    assert {o.kind for o in got.values()} == {"ok"}
    assert all(server.attempts[results_path(i)] == 3 for i in ids)
    assert client.stats.retries == 10
    assert sum(1 for e in events if e.kind == "retry") == 10
    by_status = client.stats.requests_by_endpoint["results"]
    assert by_status == {"500": 2, "502": 2, "503": 2, "timeout": 2, "connection_error": 2,
                         "200": 5}  # fmt: skip


def test_retries_are_bounded() -> None:
    items = make_items(2)
    ids = [it["id"] for it in items]
    server = FakeGather(items)
    server.fault = lambda path, n: (
        server.error(504, "TIMEOUT")
        if path == results_path(ids[0])
        else httpx.ConnectError("refused")
    )
    with client_for(server, max_retries=3) as client:
        got = by_id(list(client.fetch_results(ids)))
    assert got[ids[0]].error_kind == "retries_exhausted" and got[ids[0]].http_status == 504
    assert got[ids[1]].error_kind == "retries_exhausted" and "ConnectError" in (
        got[ids[1]].error or ""
    )
    assert server.attempts[results_path(ids[0])] == 4  # 1 + 3 retries
    assert server.attempts[results_path(ids[1])] == 4


def test_429_waits_until_reset_then_succeeds() -> None:
    items = make_items(3)
    ids = [it["id"] for it in items]
    clock = FakeClock()
    server = FakeGather(items, clock=clock)

    def fault(path: str, n: int) -> httpx.Response | None:
        if path == results_path(ids[0]) and n == 1:
            reset = int(server.now().timestamp()) + 42
            return server.json(
                429,
                {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "x",
                           "details": {"limit": 100, "remaining": 0}}, "meta": server.meta()},
                {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                 "X-RateLimit-Reset": str(reset)},
            )  # fmt: skip
        return None

    server.fault = fault
    events: list[ProgressEvent] = []
    with client_for(server, clock, concurrency=1, on_progress=events.append) as client:
        got = by_id(list(client.fetch_results(ids)))
    assert {o.kind for o in got.values()} == {"ok"}
    assert client.stats.rate_limited_429 == 1
    waits = [e for e in events if e.kind == "waiting"]
    assert waits and 42 <= waits[0].wait_seconds <= 44
    assert 42 <= client.stats.budget_wait_seconds <= 45
    assert 42 <= clock.slept <= 45


def test_429_reset_wait_is_bounded_by_max_wait_seconds() -> None:
    items = make_items(1)
    clock = FakeClock()
    server = FakeGather(items, clock=clock)
    far = (server.now() + timedelta(seconds=3000)).isoformat().replace("+00:00", "Z")
    server.fault = lambda path, n: (
        server.json(429, {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "x",
                                    "details": {"resetAt": far}}})
        if n == 1 else None
    )  # fmt: skip
    with client_for(server, clock, max_wait_seconds=120) as client:
        (outcome,) = client.fetch_results([items[0]["id"]])
    assert outcome.kind == "ok"
    assert 119 <= clock.slept <= 121  # bounded by max_wait_seconds, not 3000 s


def test_429_without_a_usable_reset_waits_a_minute() -> None:
    items = make_items(1)
    clock = FakeClock()
    server = FakeGather(items, clock=clock)
    server.fault = lambda path, n: server.error(429, "RATE_LIMIT_EXCEEDED") if n == 1 else None
    with client_for(server, clock) as client:
        (outcome,) = client.fetch_results([items[0]["id"]])
    assert outcome.kind == "ok" and 60 <= clock.slept <= 62


def test_client_at_server_limits_never_gets_429_under_full_concurrency() -> None:
    clock = AcceleratedClock(speed=300)
    items = make_items(70)
    server = FakeGather(items, clock=clock, rpm=20)
    with client_for(server, clock, requests_per_minute=20, concurrency=8) as client:
        got = list(client.fetch_results([it["id"] for it in items]))
    assert len(got) == 70 and {o.kind for o in got} == {"ok"}
    assert 429 not in server.statuses
    assert client.stats.rate_limited_429 == 0
    assert client.stats.budget_wait_seconds > 0


def test_client_above_server_limits_recovers_from_429_and_finishes() -> None:
    clock = AcceleratedClock(speed=300)
    items = make_items(50)
    server = FakeGather(items, clock=clock, rpm=15)
    with client_for(server, clock, requests_per_minute=40, concurrency=8) as client:
        got = by_id(list(client.fetch_results([it["id"] for it in items])))
    assert len(got) == 50 and {o.kind for o in got.values()} == {"ok"}
    assert client.stats.rate_limited_429 > 0
    assert server.statuses.count(200) == 50


def test_concurrency_is_bounded_and_ids_are_consumed_lazily() -> None:
    items = make_items(60)
    server = FakeGather(items)
    gate = threading.Event()
    server.latency_hook = lambda: gate.wait(0.002)
    pulled = 0

    def ids() -> Iterator[str]:
        nonlocal pulled
        for it in items:
            pulled += 1
            yield it["id"]

    with client_for(server, concurrency=4) as client:
        stream = client.fetch_results(ids())
        first = next(stream)
        assert pulled <= 4 + 4  # a bounded window, not the whole iterable
        rest = list(stream)
    assert len({first.candidate_interview_id, *(o.candidate_interview_id for o in rest)}) == 60
    assert server.max_in_flight <= 4


def test_max_requests_stops_cleanly_and_counts_what_is_left() -> None:
    items = make_items(40)
    server = FakeGather(items)
    with client_for(server, concurrency=4, max_requests=12) as client:
        listing = client.list_candidate_interviews()  # 1 request counts against the cap
        got = list(client.fetch_results(it["id"] for it in listing.items))
    assert len(got) == 11 and len(server.sent) == 12
    assert client.stats.budget_exhausted
    assert client.stats.not_attempted == 40 - 11
    meta = client.stats.as_metadata()
    assert meta["not_attempted"] == 29 and meta["budget_exhausted"] is True
    assert orjson.loads(orjson.dumps(meta)) == meta  # JSON-safe


def test_401_is_one_clear_fatal_error_without_the_key() -> None:
    items = make_items(10)
    server = FakeGather(items)
    clock = FakeClock()
    bad = GatherClient(BASE_URL, "qapi_WRONGKEY_123456", transport=httpx.MockTransport(server),
                       clock=clock, sleep=clock.sleep)  # fmt: skip
    with bad, pytest.raises(GatherAuthError) as listing_err:
        bad.list_candidate_interviews()
    assert "HUMANLY_API_KEY" in str(listing_err.value) and "401" in str(listing_err.value)
    assert "qapi_WRONGKEY_123456" not in repr(listing_err.value)
    bad = GatherClient(BASE_URL, "qapi_WRONGKEY_123456", transport=httpx.MockTransport(server),
                       clock=clock, sleep=clock.sleep, concurrency=3)  # fmt: skip
    with bad, pytest.raises(GatherAuthError):
        list(bad.fetch_results(it["id"] for it in items))
    assert len(server.sent) <= 1 + 3 + 3  # stopped at once, not once per record
    assert bad.stats.retries == 0
    with pytest.raises(GatherAuthError, match="HUMANLY_API_KEY"):
        GatherClient(BASE_URL, "")


def test_key_and_invite_token_never_logged_raised_or_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    items = make_items(4)
    ids = [it["id"] for it in items]
    server = FakeGather(items)
    token = "INVITE-TOKEN-XYZ-123"
    leaky = orjson.dumps({"error": {"code": "X", "message": f"key {API_KEY} inviteToken {token}",
                                    "details": {"inviteToken": token}}})  # fmt: skip

    def fault(path: str, n: int) -> httpx.Response | None:
        if path == results_path(ids[0]):
            return httpx.Response(400, content=leaky)
        if path == results_path(ids[1]):
            return httpx.Response(500, content=leaky)
        return None

    server.fault = fault
    texts: list[str] = []
    with client_for(server, max_retries=1) as client:
        texts.append(repr(client))
        outcomes = list(client.fetch_results(ids))
        texts += [repr(o) + str(o.error) for o in outcomes]
        full = client.get_candidate_interview(ids[2])
        assert "inviteToken" not in full and full["id"] == ids[2]
        with pytest.raises(GatherError) as err:
            client.get_candidate_interview("missing-id")
        texts += [str(err.value), repr(err.value)]
        texts.append(repr(client.stats))
    texts += [r.getMessage() for r in caplog.records]
    texts += [caplog.text]
    assert any("get_candidate_interview" in t for t in texts)
    blob = "\n".join(texts)
    assert API_KEY not in blob
    assert token not in blob
    assert any("***" in (o.error or "") for o in outcomes)
