"""Every sandbox fault knob, over real HTTP; each is deterministic for a seed."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from humanly_pipeline.sandbox import Faults
from humanly_pipeline.sandbox.data import UNKNOWN_STATUS, iso
from tests.sandbox_fixtures import LIST, NOW, FakeClock, running

TRIMMED = {"id", "candidateId", "interviewId", "status", "inviteSentAt", "createdAt"}


def _statuses(client: httpx.Client, paths: list[str]) -> list[int]:
    return [client.get(p).status_code for p in paths]


def test_faults_are_off_by_default_and_validated() -> None:
    assert Faults().active() == {}
    assert Faults(error_rate=0.5, extra_fields=True).active() == {
        "error_rate": 0.5,
        "extra_fields": True,
    }
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError):
        Faults(page_drift=-1)


def test_error_rate_answers_5xx_deterministically() -> None:
    paths = [LIST + f"?page={p}" for p in range(1, 6)] * 20
    runs = []
    for _ in range(2):
        with running(interviews=100, faults=Faults(error_rate=0.4)) as (sb, client):
            codes = _statuses(client, paths)
            runs.append(codes)
            counts = sb.request_counts()["list_candidate_interviews"]
            assert set(counts) <= {200, 500, 502, 503}
            assert sum(n for s, n in counts.items() if s != 200) == codes.count(500) + codes.count(
                502
            ) + codes.count(503)
            assert sb.requests_spent() == len(paths)  # 5xx answers spent budget
    assert runs[0] == runs[1]
    assert {500, 502, 503} <= set(runs[0]) and 200 in runs[0]
    # Retrying the same path gets a fresh decision: a retry loop eventually succeeds.
    assert all(200 in runs[0][i::5] for i in range(5))


def test_error_bodies() -> None:
    with running(interviews=20, faults=Faults(error_rate=1.0)) as (_, client):
        seen: dict[int, httpx.Response] = {}
        for page in range(1, 40):
            r = client.get(LIST, params={"page": page})
            seen.setdefault(r.status_code, r)
        assert set(seen) == {500, 502, 503}
        assert seen[500].json()["error"]["code"] == "INTERNAL_ERROR"
        assert seen[503].json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert seen[502].headers["content-type"].startswith("text/html")  # a proxy's answer
        # Admin endpoints are never faulted.
        assert client.get("/_sandbox/stats").status_code == 200


def test_429_bursts() -> None:
    clock = FakeClock(5000.0)
    faults = Faults(burst_rate=1.0, burst_seconds=10)
    with running(interviews=20, faults=faults, clock=clock, requests_per_minute=100) as (
        sb,
        client,
    ):
        r = client.get(LIST)
        assert r.status_code == 429
        assert r.json()["error"]["details"]["resetAt"] == iso(5010, millis=True)
        assert r.headers["x-ratelimit-remaining"] == "0"
        assert r.headers["x-ratelimit-reset"] == "5010"
        clock.tick(5)
        assert client.get(f"{LIST}?page=2").status_code == 429  # still inside the burst
        clock.tick(5)
        r = client.get(LIST)  # burst over; with rate 1.0 the next one starts at once
        assert r.json()["error"]["details"]["resetAt"] == iso(5020, millis=True)
        assert sb.requests_spent() == 0

    def pattern() -> list[int]:
        clk = FakeClock(0.0)
        with running(interviews=20, faults=Faults(burst_rate=0.2, burst_seconds=1), clock=clk) as (
            _,
            c,
        ):
            out = []
            for i in range(40):
                out.append(c.get(LIST, params={"page": i % 4 + 1}).status_code)
                clk.tick(0.5)
            return out

    first = pattern()
    assert first == pattern()
    assert 200 in first and 429 in first


def test_latency_with_jitter_uses_the_injected_sleep() -> None:
    delays: list[float] = []
    faults = Faults(latency_ms=200, jitter_ms=100)
    with running(interviews=20, faults=faults, sleep=delays.append) as (sb, client):
        ident = sb.store.listing()[0]["id"]
        for page in range(1, 11):
            client.get(LIST, params={"page": page})
        client.get(f"{LIST}/{ident}")
        client.get("/_sandbox/stats")  # admin: no latency
    assert len(delays) == 11
    assert all(0.2 <= d <= 0.3 for d in delays)
    assert len(set(delays)) > 1


def test_dropped_connections() -> None:
    with running(interviews=20, faults=Faults(drop_rate=1.0)) as (sb, client):
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(LIST)
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(LIST)
        assert sb.request_counts()["list_candidate_interviews"] == {0: 2}
        assert client.get("/_sandbox/stats").status_code == 200
    with running(interviews=20, faults=Faults(drop_rate=0.5)) as (sb, client):
        outcomes = []
        for page in range(1, 21):
            try:
                outcomes.append(client.get(LIST, params={"page": page}).status_code)
            except httpx.RemoteProtocolError:
                outcomes.append(0)
        assert 0 in outcomes and 200 in outcomes
        assert sb.request_counts()["list_candidate_interviews"] == {
            0: outcomes.count(0),
            200: outcomes.count(200),
        }


def test_malformed_results_for_chosen_interviews() -> None:
    with running(interviews=300) as (sb, _):
        answered = [i["id"] for i in sb.store.listing(status="has_reviewed")]
    chosen = answered[0]
    faults = Faults(malformed_ids=frozenset({chosen}), malformed_rate=0.3)
    broken: list[list[str]] = []
    for _ in range(2):
        with running(interviews=300, faults=faults) as (sb, client):
            bad = []
            for ident in answered[:40]:
                r = client.get(f"{LIST}/{ident}/results")
                assert r.status_code == 200  # broken bodies still come with 200
                try:
                    parsed = orjson.loads(r.content)
                except orjson.JSONDecodeError:
                    bad.append(ident)
                    continue
                assert parsed["data"] == sb.store.results(ident)
            broken.append(bad)
            assert sb.store.results(chosen) is not None  # ground truth stays clean
    assert chosen in broken[0]
    assert broken[0] == broken[1]
    assert 3 < len(broken[0]) < 30


def _page(client: httpx.Client, page: int, limit: int) -> dict[str, Any]:
    body: dict[str, Any] = client.get(LIST, params={"page": page, "limit": limit}).json()
    return body


def test_page_drift_shifts_pages_while_paging() -> None:
    def run() -> tuple[list[str], list[str], int]:
        with running(interviews=60, faults=Faults(page_drift=3)) as (sb, client):
            seen: list[str] = []
            totals = []
            page = 1
            while True:
                body = _page(client, page, 10)
                totals.append(body["meta"]["pagination"]["total"])
                if not body["data"]:
                    break
                seen.extend(i["id"] for i in body["data"])
                page += 1
            truth = [i["id"] for i in sb.store.listing()]
            assert totals == [60 + 3 * k for k in range(len(totals))]
            drifted = truth[: 3 * len(totals)]
            for ident in drifted:
                full = sb.store.candidate_interview(ident)
                assert full is not None
                assert full["status"] == "invite_sent"
                assert full["createdAt"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
            return seen, truth, len(totals)

    seen, truth, pages = run()
    assert len(seen) != len(set(seen)), "naive paging sees duplicates"
    assert set(truth) - set(seen), "and misses the new interviews"
    assert len(truth) == 60 + 3 * pages
    assert run()[1] == truth  # drifted ids are deterministic


def test_extra_fields_everywhere_but_the_store_is_clean() -> None:
    with running(interviews=200, faults=Faults(extra_fields=True)) as (sb, client):
        item = client.get(LIST).json()["data"][0]
        assert set(item) > TRIMMED
        ident = sb.store.listing(status="has_reviewed")[0]["id"]
        full = client.get(f"{LIST}/{ident}").json()["data"]
        assert set(full) > set(sb.store.candidate_interview(ident) or {})
        data = client.get(f"{LIST}/{ident}/results").json()["data"]
        truth = sb.store.results(ident)
        assert truth is not None
        assert set(data) > set(truth)
        assert set(data["transcriptions"][0]) > set(truth["transcriptions"][0])
        assert set(data["ratings"][0]) > set(truth["ratings"][0])
        assert "aiInsights" not in truth


def test_numbers_as_strings() -> None:
    with running(interviews=200, faults=Faults(numbers_as_strings=True)) as (sb, client):
        ident = next(
            i["id"]
            for i in sb.store.listing(status="has_reviewed")
            if (sb.store.results(i["id"]) or {}).get("scoreCard")
        )
        data = client.get(f"{LIST}/{ident}/results").json()["data"]
        truth = sb.store.results(ident)
        assert truth is not None
        assert data["scores"][0]["score"] == str(truth["scores"][0]["score"])
        assert isinstance(data["ratings"][0]["rating"], str)
        assert float(data["scoreCard"]["overallScore"]) == truth["scoreCard"]["overallScore"]
        assert float(data["scoreCard"]["results"][0]["weight"]) == pytest.approx(
            truth["scoreCard"]["results"][0]["weight"]
        )
        answered = [t for t in data["transcriptions"] if t["transcription"] is not None]
        assert isinstance(answered[0]["durationSeconds"], str)
        assert data["transcriptions"][0]["ordinal"] == "1"


def test_unknown_status_value() -> None:
    with running(interviews=300, faults=Faults(unknown_status_rate=0.1)) as (sb, client):
        odd = sb.store.listing(status=UNKNOWN_STATUS)
        assert 10 < len(odd) < 60
        listed = []
        page = 1
        while batch := client.get(
            LIST, params={"status": UNKNOWN_STATUS, "page": page, "limit": 100}
        ).json()["data"]:
            listed.extend(batch)
            page += 1
        assert listed == odd
        ident = odd[0]["id"]
        assert client.get(f"{LIST}/{ident}").json()["data"]["status"] == UNKNOWN_STATUS
        answered = next(i for i in odd if sb.store.results(i["id"]) is not None)
        results = client.get(f"{LIST}/{answered['id']}/results").json()["data"]
        assert results["status"] == UNKNOWN_STATUS
