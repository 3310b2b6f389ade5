"""Listing: stop rules, de-duplication and drift reconciliation, over httpx.MockTransport."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from humanly_pipeline.client import GatherBudgetExhausted, GatherClient, ProgressEvent
from humanly_pipeline.client import core as client_core
from tests.test_client_fakes import API_KEY, BASE_URL, LIST, FakeClock, FakeGather, make_items


def client_for(server: FakeGather, **kw: Any) -> GatherClient:
    clock = server.clock or FakeClock()
    return GatherClient(
        BASE_URL,
        API_KEY,
        transport=httpx.MockTransport(server),
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )


def pages_requested(server: FakeGather) -> list[int]:
    return [int(p["page"]) for path, p in server.sent if path == LIST]


def test_stops_at_total_pages_with_limit_100() -> None:
    items = make_items(250)
    server = FakeGather(items)
    events: list[ProgressEvent] = []
    with client_for(server, on_progress=events.append) as client:
        listing = client.list_candidate_interviews()
    assert pages_requested(server) == [1, 2, 3]
    assert all(p["limit"] == "100" for _, p in server.sent)
    assert listing.ids == [it["id"] for it in items]
    assert (listing.total, listing.pages_requested, listing.duplicates_dropped) == (250, 3, 0)
    assert not listing.relisted and listing.reconciled
    assert [e.done for e in events if e.kind == "page"] == [1, 2, 3]
    assert client.stats.requests_by_endpoint == {"list_candidate_interviews": {"200": 3}}


def test_exact_multiple_of_page_size_and_empty_listing() -> None:
    server = FakeGather(make_items(200))
    with client_for(server) as client:
        assert len(client.list_candidate_interviews().items) == 200
    assert pages_requested(server) == [1, 2]
    empty = FakeGather([])
    with client_for(empty) as client:
        listing = client.list_candidate_interviews()
    assert listing.items == [] and listing.total == 0 and listing.reconciled
    assert pages_requested(empty) == [1]


def test_stops_on_an_empty_page_before_total_pages() -> None:
    # The server claims 5 pages but runs dry after the first.
    server = FakeGather(make_items(100), report_total_pages=lambda page, n: 5)
    with client_for(server) as client:
        listing = client.list_candidate_interviews()
    assert pages_requested(server) == [1, 2]
    assert len(listing.items) == 100


def test_never_requests_beyond_first_total_pages_plus_one() -> None:
    # A misbehaving server keeps moving totalPages one page further away, with full pages.
    server = FakeGather(make_items(5000), report_total_pages=lambda page, n: page + 1)
    with client_for(server) as client:
        client.list_candidate_interviews()
    # First response says 2 pages: pages 1..3 at most, in each of the (up to 3) passes.
    assert max(pages_requested(server)) == 3
    assert set(pages_requested(server)) == {1, 2, 3}


def test_null_total_stops_at_short_page_and_relists_once() -> None:
    server = FakeGather(make_items(230), report_total=lambda n: None,
                        report_total_pages=lambda p, n: None)  # fmt: skip
    with client_for(server) as client:
        listing = client.list_candidate_interviews()
    assert pages_requested(server) == [1, 2, 3, 1, 2, 3]  # one verifying pass, nothing new
    assert listing.total is None and len(listing.items) == 230
    assert listing.relisted and listing.reconciled


def test_missing_pagination_and_safety_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeGather(make_items(250), omit_total=True)
    with client_for(server) as client:
        assert len(client.list_candidate_interviews().items) == 250
    # A server that only ever sends full pages and no totals: the absolute cap ends each pass.
    monkeypatch.setattr(client_core, "MAX_PAGES_WITHOUT_TOTALS", 4)
    endless = FakeGather(make_items(100), omit_total=True)
    endless.on_list_page = lambda srv, page: None
    endless.items = make_items(100) * 1  # page 1 full; make every page full:
    orig = endless._list

    def always_full(params: dict[str, str]) -> httpx.Response:
        return orig({**params, "page": "1"})

    endless._list = always_full  # type: ignore[method-assign]
    with client_for(endless) as client:
        client.list_candidate_interviews()
    assert len(pages_requested(endless)) <= 4 * 3


def test_duplicates_from_an_insert_while_paging_are_dropped() -> None:
    items = make_items(250)
    server = FakeGather(items)
    new = make_items(260)[250:]

    def insert_front(srv: FakeGather, page: int) -> None:
        if page == 2 and len(srv.items) == 250:
            srv.items.insert(0, new[0])  # shifts everything one place down

    server.on_list_page = insert_front
    with client_for(server) as client:
        listing = client.list_candidate_interviews()
    ids = listing.ids
    assert len(ids) == len(set(ids))
    assert listing.duplicates_dropped >= 1
    assert set(ids) == {it["id"] for it in server.items}  # the inserted one too (re-list)
    assert listing.total == 251 and listing.reconciled


def test_item_moved_while_paging_is_skipped_then_recovered_by_a_relist() -> None:
    items = make_items(300)
    server = FakeGather(items)
    moved = items[250]

    def move_to_front(srv: FakeGather, page: int) -> None:
        # A status change re-sorts an item from page 3 to page 1 while we are on page 2:
        # page 2 repeats one id and the moved item is never served in this pass.
        if page == 2 and srv.items[0] is not moved:
            srv.items.remove(moved)
            srv.items.insert(0, moved)

    server.on_list_page = move_to_front
    with client_for(server) as client:
        listing = client.list_candidate_interviews()
    ids = listing.ids
    assert len(ids) == len(set(ids)) == 300
    assert set(ids) == {it["id"] for it in items}  # no duplicate, no missing id
    assert listing.duplicates_dropped == 1
    assert listing.relisted and listing.reconciled and listing.passes == 2


def test_item_deleted_mid_pass_is_found_missing_and_relisted() -> None:
    items = make_items(300)
    server = FakeGather(items)
    removed: list[dict[str, Any]] = []

    def delete_on_page_2(srv: FakeGather, page: int) -> None:
        if page == 2 and not removed:
            removed.append(srv.items.pop(10))  # page 2 shifts up: items[100] is skipped

    server.on_list_page = delete_on_page_2
    with client_for(server) as client:
        listing = client.list_candidate_interviews()
    truth = [it["id"] for it in server.items]
    assert set(truth) <= set(listing.ids)  # the skipped item was recovered
    assert len(listing.ids) == len(set(listing.ids))
    assert listing.relisted and listing.reconciled and listing.passes == 2
    assert listing.total == 299


def test_total_that_never_agrees_bounds_relists_and_reports() -> None:
    server = FakeGather(make_items(120), report_total=lambda n: n + 7)
    with client_for(server) as client:
        listing = client.list_candidate_interviews()
    assert listing.passes == 3 and listing.relisted and not listing.reconciled
    assert pages_requested(server) == [1, 2] * 3
    assert len(listing.items) == 120


def test_filters_server_time_and_budget_cap() -> None:
    server = FakeGather(make_items(150) + make_items(1, status="invite_sent"))
    server.items[-1]["id"] = "invite-1"
    with client_for(server) as client:
        listing = client.list_candidate_interviews(status="invite_sent", interview_id="i")
    assert server.sent[0][1] == {"status": "invite_sent", "interviewId": "i", "page": "1",
                                 "limit": "100"}  # fmt: skip
    assert listing.server_time is not None and listing.server_time.tzinfo is not None
    assert listing.server_time.year == 2026
    capped = FakeGather(make_items(500))
    with client_for(capped, max_requests=2) as client:
        with pytest.raises(GatherBudgetExhausted):
            client.list_candidate_interviews()
        assert client.stats.budget_exhausted
    assert len(capped.sent) == 2
