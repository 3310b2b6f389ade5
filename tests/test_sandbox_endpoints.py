"""Sandbox endpoints over real HTTP: envelopes, fields, pagination edges, errors, counts."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from humanly_pipeline.sandbox import Sandbox
from tests.sandbox_fixtures import LIST, NOW, list_all, running

TRIMMED = {"id", "candidateId", "interviewId", "status", "inviteSentAt", "createdAt"}
FULL = TRIMMED | {"inviteToken", "expiry", "externalId", "updatedAt"}
RESULTS = {
    "candidateInterviewId",
    "candidateId",
    "interviewId",
    "status",
    "takenAt",
    "transcriptions",
    "scores",
    "ratings",
    "summary",
    "summaryStatus",
    "scoreCard",
}


Env = tuple[Sandbox, httpx.Client]


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    with running(interviews=230, seed=11) as pair:
        yield pair


def _sb(env: Env) -> Sandbox:
    return env[0]


def _c(env: Env) -> httpx.Client:
    return env[1]


def test_list_envelope_trimmed_items_and_pagination(env: Env) -> None:
    sb, client = _sb(env), _c(env)
    r = client.get(LIST)
    assert r.status_code == 200
    body = r.json()
    assert set(body["meta"]) == {"requestId", "timestamp", "pagination"}
    uuid.UUID(body["meta"]["requestId"])
    assert body["meta"]["pagination"] == {"page": 1, "limit": 50, "total": 230, "totalPages": 5}
    assert len(body["data"]) == 50
    assert all(set(item) == TRIMMED for item in body["data"])
    assert body["data"] == sb.store.listing()[:50]
    created = [item["createdAt"] for item in body["data"]]
    assert created == sorted(created, reverse=True)  # newest first
    assert all(c <= NOW.strftime("%Y-%m-%dT%H:%M:%SZ") for c in created)


def test_pagination_edges_last_empty_and_limit_100(env: Env) -> None:
    client = _c(env)
    full = client.get(LIST, params={"limit": 100}).json()
    assert len(full["data"]) == 100
    assert full["meta"]["pagination"]["totalPages"] == 3
    last = client.get(LIST, params={"limit": 100, "page": 3}).json()
    assert len(last["data"]) == 30
    empty = client.get(LIST, params={"limit": 100, "page": 4}).json()
    assert empty["data"] == []
    assert empty["meta"]["pagination"] == {"page": 4, "limit": 100, "total": 230, "totalPages": 3}
    everything = list_all(client, limit=100)
    assert len({i["id"] for i in everything}) == 230


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"page": 0}, "page"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_list_validation_errors(env: Env, params: dict[str, Any], field: str) -> None:
    r = _c(env).get(LIST, params=params)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert err["details"]["field"] == field
    assert "requestId" in r.json()["meta"]


def test_list_filters(env: Env) -> None:
    sb, client = _sb(env), _c(env)
    truth = sb.store.listing()
    for status in ("has_reviewed", "invite_sent", "expired"):
        got = list_all(client, status=status)
        assert got == [i for i in truth if i["status"] == status]
        assert got, status
    cand = truth[0]["candidateId"]
    assert list_all(client, candidateId=cand) == [i for i in truth if i["candidateId"] == cand]
    interview = truth[0]["interviewId"]
    by_interview = list_all(client, interviewId=interview)
    assert by_interview == [i for i in truth if i["interviewId"] == interview]
    assert list_all(client, candidateId=str(uuid.uuid4())) == []
    assert list_all(client, status="no_such_status") == []


def test_get_candidate_interview_full_object(env: Env) -> None:
    sb, client = _sb(env), _c(env)
    item = sb.store.listing(status="has_reviewed")[0]
    body = client.get(f"{LIST}/{item['id']}").json()
    assert set(body["data"]) == FULL
    assert body["data"] == sb.store.candidate_interview(item["id"])
    assert {k: body["data"][k] for k in TRIMMED} == item
    assert body["data"]["inviteToken"].startswith("inv_")
    assert len(body["data"]["inviteToken"]) == 36
    assert body["data"]["updatedAt"] >= body["data"]["createdAt"]
    # The invite token is a credential: only the single-object endpoint carries it.
    token = body["data"]["inviteToken"]
    assert token not in client.get(LIST, params={"limit": 100}).text
    assert token not in client.get(f"{LIST}/{item['id']}/results").text


def test_get_unknown_ids_are_404(env: Env) -> None:
    client = _c(env)
    for path in (
        f"{LIST}/{uuid.uuid4()}",
        f"{LIST}/not-a-uuid",
        f"{LIST}/{uuid.uuid4()}/results",
        f"/qsi/gather/interviews/{uuid.uuid4()}",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        err = r.json()["error"]
        assert err["code"] == "NOT_FOUND"
        assert set(err["details"]) == {"resource", "id"}


def test_results_shape_and_ground_truth(env: Env) -> None:
    sb, client = _sb(env), _c(env)
    ids = [i["id"] for i in sb.store.listing(status="has_reviewed")]
    body = client.get(f"{LIST}/{ids[0]}/results").json()
    data = body["data"]
    assert set(data) == RESULTS
    assert data == sb.store.results(ids[0])
    assert data["candidateInterviewId"] == ids[0]
    assert data["ratings"], "reviewed interviews have ratings"
    ordinals = [t["ordinal"] for t in data["transcriptions"]]
    assert ordinals == list(range(1, len(ordinals) + 1))
    assert 3 <= len(ordinals) <= 8
    assert data["summaryStatus"] in ("pre-summary-feature", "processing", "complete", "error")
    assert (data["summary"] is not None) == (data["summaryStatus"] == "complete")


def test_results_404_for_unanswered(env: Env) -> None:
    sb, client = _sb(env), _c(env)
    for status in ("invite_sent", "expired"):
        ident = sb.store.listing(status=status)[0]["id"]
        assert sb.store.results(ident) is None
        r = client.get(f"{LIST}/{ident}/results")
        assert r.status_code == 404
        assert r.json()["error"]["details"]["id"] == ident


def test_results_partial_answers_fewer_questions(env: Env) -> None:
    sb, client = _sb(env), _c(env)
    store = sb.store
    for item in store.listing(status="partially_completed")[:10]:
        data = client.get(f"{LIST}/{item['id']}/results").json()["data"]
        interview = client.get(f"/qsi/gather/interviews/{item['interviewId']}").json()
        n_questions = len(interview["data"]["interview"]["questions"])
        assert 1 <= len(data["transcriptions"]) < n_questions


def test_interviews_endpoints(env: Env) -> None:
    client = _c(env)
    body = client.get("/qsi/gather/interviews").json()
    interviews = body["data"]
    assert body["meta"]["pagination"]["total"] == len(interviews) >= 5
    for iv in interviews:
        assert {
            "id",
            "title",
            "displayName",
            "interviewType",
            "status",
            "description",
            "language",
            "questions",
            "createdAt",
            "updatedAt",
        } <= set(iv)
        assert [q["ordinal"] for q in iv["questions"]] == list(range(1, len(iv["questions"]) + 1))
        assert 3 <= len(iv["questions"]) <= 8
    one = client.get(f"/qsi/gather/interviews/{interviews[0]['id']}").json()
    assert one["data"]["interview"] == interviews[0]
    archived = client.get("/qsi/gather/interviews", params={"archived": "true"}).json()["data"]
    assert archived and all(iv["status"] == "archived" for iv in archived)
    quest = client.get("/qsi/gather/interviews", params={"interviewType": "questionnaire"})
    assert all(iv["interviewType"] == "questionnaire" for iv in quest.json()["data"])
    assert client.get("/qsi/gather/interviews", params={"limit": 101}).status_code == 400
    paged = client.get("/qsi/gather/interviews", params={"limit": 2, "page": 2}).json()
    assert paged["data"] == interviews[2:4]


def test_candidates_endpoint(env: Env) -> None:
    sb, client = _sb(env), _c(env)
    body = client.get("/qsi/gather/candidates").json()
    people = body["data"]["candidates"]
    assert len(people) == 10  # default pageSize
    total = body["meta"]["pagination"]["total"]
    assert body["meta"]["pagination"]["totalPages"] == math.ceil(total / 10)
    for p in people:
        assert set(p) == {
            "id",
            "firstName",
            "lastName",
            "email",
            "phone",
            "resumeUrl",
            "externalId",
            "timezone",
        }
        assert p["email"].endswith("@example.com")
        assert p["phone"].startswith("+1-202-555-01")
    big = client.get("/qsi/gather/candidates", params={"pageSize": 100, "page": 2}).json()
    assert len(big["data"]["candidates"]) == min(100, total - 100)
    assert client.get("/qsi/gather/candidates", params={"pageSize": 101}).status_code == 400
    # Every candidate referenced by an interview is listed.
    listed = {p["id"] for p in _all_candidates(client)}
    assert {i["candidateId"] for i in sb.store.listing()} <= listed


def _all_candidates(client: httpx.Client) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    page = 1
    while batch := client.get(
        "/qsi/gather/candidates", params={"pageSize": 100, "page": page}
    ).json()["data"]["candidates"]:
        out.extend(batch)
        page += 1
    return out


def test_auth_errors_and_unknown_path() -> None:
    with running(interviews=20) as (sb, client):
        sb.reset_counts()
        missing = httpx.get(f"{sb.base_url}{LIST}")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "UNAUTHORIZED"
        assert "expectedFormat" in missing.json()["error"]["details"]
        wrong = httpx.get(f"{sb.base_url}{LIST}", headers={"x-api-key": "qapi_wrong"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "UNAUTHORIZED"
        for r in (missing, wrong):
            assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
                r.headers
            )
        unknown = client.get("/qsi/gather/nothing-here")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "NOT_FOUND"
        assert client.get("/elsewhere").status_code == 404
        assert client.post(LIST, json={}).status_code == 404  # the sandbox is read-only
        assert sb.request_counts() == {
            "list_candidate_interviews": {401: 2},
            "unknown": {404: 3},
        }
        assert sb.requests_spent() == 0


def test_request_counts_by_endpoint_and_status() -> None:
    with running(interviews=50) as (sb, client):
        ident = sb.store.listing(status="new_response")[0]["id"]
        unanswered = sb.store.listing(status="invite_sent")[0]["id"]
        client.get(LIST)
        client.get(LIST, params={"limit": 500})
        client.get(f"{LIST}/{ident}")
        client.get(f"{LIST}/{ident}/results")
        client.get(f"{LIST}/{unanswered}/results")
        client.get("/qsi/gather/interviews")
        client.get("/qsi/gather/candidates")
        client.get("/_sandbox/stats")
        assert sb.request_counts() == {
            "list_candidate_interviews": {200: 1, 400: 1},
            "get_candidate_interview": {200: 1},
            "results": {200: 1, 404: 1},
            "list_interviews": {200: 1},
            "list_candidates": {200: 1},
            "admin": {200: 1},
        }
        assert sb.requests_spent() == 7  # admin calls are free
        stats = client.get("/_sandbox/stats").json()["data"]
        assert stats["counts"]["results"] == {"200": 1, "404": 1}
        assert stats["requestsSpent"] == 7
        sb.reset_counts()
        assert sb.request_counts() == {}
        assert sb.requests_spent() == 0


def test_keep_alive_connection_is_reused() -> None:
    with running(interviews=20) as (_, client):
        for _ in range(5):
            assert client.get(LIST).status_code == 200
        r = client.get(LIST)
        assert r.http_version == "HTTP/1.1"
        assert r.headers.get("connection", "keep-alive").lower() != "close"


def test_base_url_has_no_trailing_slash_and_sandbox_restarts_cleanly() -> None:
    sb = Sandbox(10, 1, now=NOW)
    with pytest.raises(RuntimeError):
        _ = sb.base_url
    with sb:
        assert not sb.base_url.endswith("/")
        assert sb.base_url.startswith("http://127.0.0.1:")
        assert sb.api_key.startswith("qapi_")
