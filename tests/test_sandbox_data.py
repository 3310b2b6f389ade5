"""The sandbox world: determinism, the status model, and the virtual clock (`advance`)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from humanly_pipeline.sandbox import Sandbox, World
from humanly_pipeline.sandbox.data import STATUSES
from tests.sandbox_fixtures import LIST, NOW, list_all, running


def _world(n: int = 2000, seed: int = 3, **kwargs: object) -> World:
    return World(n, seed, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b, c = _world(), _world(), _world(seed=4)
    assert a.listing() == b.listing()
    assert a.listing() != c.listing()
    ids = [i["id"] for i in a.listing()[:50]]
    assert [a.results(i) for i in ids] == [b.results(i) for i in ids]
    assert [a.candidate_interview(i) for i in ids] == [b.candidate_interview(i) for i in ids]


def test_created_at_spread_over_the_window_ending_now() -> None:
    w = _world(days=30)
    created = [i["createdAt"] for i in w.listing()]
    assert len(created) == 2000 == len({i["id"] for i in w.listing()})
    assert max(created) <= NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert min(created) >= (NOW - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert created == sorted(created, reverse=True)


def test_realistic_status_mix() -> None:
    counts = _world(5000).count_by_status()
    assert set(counts) == set(STATUSES)
    share = {s: n / 5000 for s, n in counts.items()}
    for common in ("has_reviewed", "new_response", "invite_sent"):
        assert share[common] > 0.1, share
    assert share["partially_completed"] < share["new_response"]
    for rare in ("hired", "archived", "expired", "partially_completed"):
        assert 0.02 < share[rare] < 0.25, share


def test_results_variety_across_interviews() -> None:
    w = _world(1200)
    results = [r for r in (w.results(i) for i in w.results_ids()) if r is not None]
    summary_statuses = Counter(r["summaryStatus"] for r in results)
    assert set(summary_statuses) == {"pre-summary-feature", "processing", "complete", "error"}
    assert all((r["summary"] is None) == (r["summaryStatus"] != "complete") for r in results)
    cards = Counter((r["scoreCard"] or {}).get("evaluationType") for r in results)
    assert set(cards) == {None, "ai_generated", "manual", "hybrid"}
    for r in results:
        if r["scoreCard"]:
            weights = sum(x["weight"] for x in r["scoreCard"]["results"])
            assert weights == pytest.approx(1.0)
        reviewed = r["status"] in ("has_reviewed", "hired") or bool(r["ratings"])
        if not reviewed:
            assert r["ratings"] == []
            assert all(s["source"] == "ai" for s in r["scores"])
        if r["status"] == "has_reviewed":
            assert r["ratings"]
    texts = [t["transcription"] for r in results for t in r["transcriptions"]]
    words = [len(t.split()) for t in texts if t]
    assert any(t is None for t in texts), "skipped questions have null transcriptions"
    assert max(words) > 1500, "some answers are very long"
    assert sorted(words)[len(words) // 2] > 60, "typical answers run to hundreds of words"
    joined = " ".join(t for t in texts if t)
    assert any(ch in joined for ch in "éñüçø"), "accents"
    assert any(ord(ch) > 0xFFFF for ch in joined), "emoji"
    assert {t["language"] for r in results for t in r["transcriptions"]} >= {"en", "es"}


def test_updated_at_is_latest_event_and_never_in_the_future() -> None:
    w = _world(500)
    now = NOW.strftime("%Y-%m-%dT%H:%M:%S")
    for item in w.listing():
        full = w.candidate_interview(item["id"])
        assert full is not None
        assert full["createdAt"] <= full["updatedAt"][:19] + "Z"
        assert full["updatedAt"][:19] <= now


def test_advance_moves_stories_on_deterministically() -> None:
    a, b = _world(1500), _world(1500)
    before = {i["id"]: i["status"] for i in a.listing()}
    before_results = {i: a.results(i) for i in before}
    a.advance(1)
    b.advance(1)
    after = {i["id"]: i["status"] for i in a.listing()}
    assert a.listing() == b.listing()
    assert a.now == NOW + timedelta(days=1)
    # New interviews (about interviews/days per day) appear at the head of the listing.
    new = [i for i in after if i not in before]
    assert 10 <= len(new) <= 60
    assert list(after)[: len(new)] == new
    assert all(a.candidate_interview(i)["createdAt"] > NOW.isoformat() for i in new)  # type: ignore[index]
    # Transitions happen, and only along the life story.
    allowed = {
        ("invite_sent", "new_response"),
        ("invite_sent", "partially_completed"),
        ("invite_sent", "expired"),
        ("new_response", "has_reviewed"),
        ("new_response", "archived"),
        ("has_reviewed", "hired"),
        ("has_reviewed", "archived"),
        ("partially_completed", "archived"),
        ("invite_sent", "has_reviewed"),
        ("new_response", "hired"),
    }
    moves = Counter((before[i], after[i]) for i in before if before[i] != after[i])
    assert set(moves) <= allowed, moves
    assert moves[("invite_sent", "new_response")] > 0
    assert moves[("new_response", "has_reviewed")] > 0
    # Results appear for newly answered interviews; summaries finish; ratings appear.
    changed_results = 0
    completed_summaries = 0
    for ident, old in before_results.items():
        new_res = a.results(ident)
        if old != new_res:
            changed_results += 1
        if old and old["summaryStatus"] == "processing" and new_res:
            completed_summaries += new_res["summaryStatus"] in ("complete", "error")
    assert changed_results > 0
    assert completed_summaries > 0


def test_old_interviews_have_settled_recent_ones_keep_changing() -> None:
    w = _world(2000, days=60)
    cutoff = (NOW - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # updatedAt moves with every event (status, summary, score card, rating), so the full
    # object changes exactly when anything about the interview changes.
    before = {i["id"]: w.candidate_interview(i["id"]) for i in w.listing()}
    sample = [i for n, i in enumerate(before) if n % 10 == 0]
    before_results = {i: w.results(i) for i in sample}
    w.advance(3)
    old_changed = recent_changed = 0
    for i in sample:
        if before_results[i] != w.results(i):
            assert before[i] != w.candidate_interview(i), "results changed, updatedAt did not"
    for item in w.listing():
        if item["id"] not in before:
            continue
        changed = before[item["id"]] != w.candidate_interview(item["id"])
        if item["createdAt"] < cutoff:
            old_changed += changed
        else:
            recent_changed += changed
    assert old_changed == 0
    assert recent_changed > 50


def test_many_advances_settle_everything_and_keep_ids_stable() -> None:
    w = _world(300)
    first = {i["id"]: i["createdAt"] for i in w.listing()}
    for _ in range(30):
        w.advance(1)
    later = {i["id"]: i["createdAt"] for i in w.listing()}
    assert all(later[i] == c for i, c in first.items())
    assert len(later) > len(first)
    settled = {i: (w.candidate_interview(i), w.results(i)) for i in first}
    w.advance(1)
    assert settled == {i: (w.candidate_interview(i), w.results(i)) for i in first}
    with pytest.raises(ValueError):
        w.advance(-1)


def test_no_new_interviews_when_new_per_day_is_zero() -> None:
    w = _world(100, new_per_day=0)
    w.advance(5)
    assert w.total() == 100


def test_hundred_thousand_interviews_are_cheap() -> None:
    w = World(100_000, 1, now=NOW)
    assert w.total() == 100_000
    page, total = w.list_page(1000, 100)
    assert total == 100_000 and len(page) == 100
    assert w.candidate_interview(page[-1]["id"]) is not None
    w.advance(1)
    assert w.total() > 100_000


def test_sandbox_advance_method_and_admin_endpoint_agree() -> None:
    with running(interviews=400, seed=5) as (sb1, c1), running(interviews=400, seed=5) as (sb2, c2):
        sb1.advance(1)
        r = c2.post("/_sandbox/advance", json={"days": 1})
        assert r.status_code == 200
        assert r.json()["data"]["total"] == sb2.store.total()
        assert sb1.now == sb2.now == NOW + timedelta(days=1)
        listed = list_all(c2)
        n_listed = len(listed)
        assert list_all(c1) == listed
        assert c2.post("/_sandbox/advance?days=0.5").json()["data"]["now"] == (
            (NOW + timedelta(days=1.5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        assert c2.post("/_sandbox/advance", json={"days": -1}).status_code == 400
        assert c2.post("/_sandbox/advance", json={"days": "x"}).status_code == 400
        assert sb2.request_counts()["admin"] == {200: 2, 400: 2}
        assert sb2.requests_spent() == math.ceil(n_listed / 100) + 1  # + the final empty page


def test_same_seed_and_advances_give_byte_identical_responses() -> None:
    def transcript(sb: Sandbox, client: httpx.Client) -> list[bytes]:
        out: list[bytes] = []
        ids = [i["id"] for i in sb.store.listing()[:40]]
        for day in range(3):
            out.append(client.get(LIST, params={"limit": 100}).content)
            out.extend(client.get(f"{LIST}/{i}").content for i in ids)
            out.extend(client.get(f"{LIST}/{i}/results").content for i in ids)
            if day < 2:
                client.post("/_sandbox/advance", params={"days": 1})
        return out

    with running(interviews=150, seed=9) as (sb1, c1), running(interviews=150, seed=9) as (sb2, c2):
        assert transcript(sb1, c1) == transcript(sb2, c2)


def test_admin_requires_the_key() -> None:
    with running(interviews=10) as (sb, _client):
        r = httpx.post(f"{sb.base_url}/_sandbox/advance")
        assert r.status_code == 401
        assert sb.now == NOW
