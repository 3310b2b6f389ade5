"""The sandbox HTTP server: routing, auth, envelopes, rate limiting, faults and request counts.

`Sandbox` runs a stdlib `ThreadingHTTPServer` (HTTP/1.1 keep-alive) on loopback in a background
thread and serves the `World` of `data.py` under the Gather paths, plus two admin endpoints
(`/_sandbox/advance`, `/_sandbox/stats`). Order of checks for every API request:

    route -> auth (401) -> rate limit (429, not spent) -> 429 burst fault (not spent)
          -> request spent -> latency -> dropped connection -> 5xx fault -> handler (200/400/404)

Requests are counted by endpoint name and HTTP status *before* the response is written, so a
client that has its answer always sees it in `request_counts()`. A dropped connection counts
under status 0.
"""

from __future__ import annotations

import collections
import hashlib
import math
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from humanly_pipeline.sandbox import data
from humanly_pipeline.sandbox.faults import (
    FaultDice,
    Faults,
    add_extra_fields,
    stringify_numbers,
    truncate,
)

PREFIX = "/qsi/gather"
ADMIN_PREFIX = "/_sandbox"
ENDPOINTS = (
    "list_candidate_interviews",
    "get_candidate_interview",
    "results",
    "list_interviews",
    "get_interview",
    "list_candidates",
    "admin",
    "unknown",
)
# What the rate-limit headers say about a window that has no limit (limit 0). A huge number
# rather than 0, so that clients pacing on X-RateLimit-Remaining never think they must wait.
UNLIMITED = 1_000_000
DROPPED = 0  # status recorded for a connection closed without a response
MAX_LIMIT = 100


def default_api_key(seed: int) -> str:
    """A stable, obviously fake key per seed (printing it is fine: it opens only the sandbox)."""
    return "qapi_sandbox_" + hashlib.blake2b(b"key:%d" % seed, digest_size=12).hexdigest()


class RateLimiter:
    """Rolling per-hour and per-minute windows of spent requests for the (single) API key."""

    def __init__(self, per_hour: int, per_minute: int, clock: Callable[[], float]) -> None:
        self.windows: list[tuple[int, float, collections.deque[float]]] = [
            (limit, length, collections.deque())
            for limit, length in ((per_hour, 3600.0), (per_minute, 60.0))
            if limit > 0
        ]
        self.header_limit = per_hour if per_hour > 0 else per_minute if per_minute > 0 else 0
        self.clock = clock
        self._lock = threading.Lock()
        self.burst_until = 0.0
        self.spent = 0  # requests that used budget, tracked even when unlimited

    def _prune(self, now: float) -> None:
        for _, length, dq in self.windows:
            while dq and dq[0] <= now - length:
                dq.popleft()

    def _headers(self, now: float) -> dict[str, str]:
        if not self.windows:
            return {
                "X-RateLimit-Limit": str(UNLIMITED),
                "X-RateLimit-Remaining": str(UNLIMITED),
                "X-RateLimit-Reset": str(math.ceil(now)),
            }
        # The binding window is the one with the fewest requests left (ties: the longer wait).
        limit, length, dq = min(
            self.windows, key=lambda w: (w[0] - len(w[2]), -(w[2][0] + w[1] if w[2] else 0))
        )
        remaining = max(0, limit - len(dq))
        reset = dq[0] + length if dq else now
        if now < self.burst_until:
            remaining, reset = 0, self.burst_until
        return {
            "X-RateLimit-Limit": str(self.header_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }

    def peek(self) -> dict[str, str]:
        """Headers for responses that spend nothing (auth errors, admin, unknown paths)."""
        with self._lock:
            now = self.clock()
            self._prune(now)
            return self._headers(now)

    def try_spend(self) -> tuple[float | None, dict[str, str]]:
        """Spend one request, or return (reset_at, headers) when a window is full."""
        with self._lock:
            now = self.clock()
            self._prune(now)
            full = [dq[0] + length for limit, length, dq in self.windows if len(dq) >= limit]
            if full:
                return max(full), self._headers(now)
            for _, _, dq in self.windows:
                dq.append(now)
            self.spent += 1
            return None, self._headers(now)

    def start_burst(self, seconds: float) -> float:
        with self._lock:
            self.burst_until = self.clock() + seconds
            return self.burst_until

    def in_burst(self) -> float | None:
        with self._lock:
            now = self.clock()
            return self.burst_until if now < self.burst_until else None

    def reset(self) -> None:
        with self._lock:
            for _, _, dq in self.windows:
                dq.clear()
            self.burst_until = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-response are normal (timeouts, killed runs): stay quiet."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Reply(Exception):
    """Raised inside routing to answer with an error envelope."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class Sandbox:
    """A seeded imitation of the Gather API on a loopback port. Use as a context manager."""

    def __init__(
        self,
        interviews: int = 3000,
        seed: int = 0,
        *,
        days: float = 60.0,
        new_per_day: float | None = None,
        now: datetime | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        requests_per_hour: int = 1000,
        requests_per_minute: int = 100,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.faults = faults or Faults()
        self.seed = seed
        self.store = data.World(
            interviews,
            seed,
            days=days,
            now=now,
            new_per_day=new_per_day,
            unknown_status_rate=self.faults.unknown_status_rate,
        )
        self.api_key = api_key or default_api_key(seed)
        self.host = host
        self.port = port
        self.requests_per_hour = requests_per_hour
        self.requests_per_minute = requests_per_minute
        self.limiter = RateLimiter(requests_per_hour, requests_per_minute, clock)
        self.dice = FaultDice(seed, self.faults)
        self.clock = clock
        self.sleep = sleep
        self._counts: dict[str, collections.Counter[int]] = {}
        self._path_seen: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        handler = type("SandboxHandler", (_Handler,), {"sandbox": self})
        server = _Server((self.host, self.port), handler)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"sandbox-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() or use `with`")
        return f"http://{self.host}:{self.port}"

    @property
    def now(self) -> datetime:
        return self.store.now

    # -- test helpers -------------------------------------------------------------------

    def advance(self, days: float = 1.0) -> datetime:
        """Move the virtual clock forward by `days` (also: POST /_sandbox/advance)."""
        return self.store.advance(days)

    def delete(self, candidate_interview_ids: list[str]) -> int:
        """Delete interviews upstream (they vanish from listings, and 404)."""
        return self.store.delete(candidate_interview_ids)

    def request_counts(self) -> dict[str, dict[int, int]]:
        """{endpoint_name: {http_status: n}}; status 0 = connection dropped without response."""
        with self._lock:
            return {name: dict(counter) for name, counter in self._counts.items()}

    def requests_spent(self) -> int:
        """Requests that used rate-limit budget since the last `reset_counts()`.

        Spent: every authenticated API request that was not answered 429 (so 200, 400, 404,
        5xx and dropped connections). Not spent: 401, 429, unknown paths, admin calls.
        """
        return self.limiter.spent

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
        self.limiter.spent = 0

    def reset_rate_limits(self) -> None:
        self.limiter.reset()

    # -- internals used by the handler --------------------------------------------------

    def _count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._counts.setdefault(endpoint, collections.Counter())[status] += 1

    def _seen(self, path: str) -> int:
        with self._lock:
            self._path_seen[path] += 1
            return self._path_seen[path]

    def _meta(self, path: str, n: int) -> dict[str, Any]:
        # Derived, not random: same seed + same requests -> byte-identical responses.
        digest = hashlib.blake2b(f"{self.seed}\x00req\x00{path}\x00{n}".encode(), digest_size=16)
        return {
            "requestId": str(uuid.UUID(bytes=digest.digest(), version=4)),
            "timestamp": data.iso(self.store.now_ts, millis=True),
        }


def _int_param(params: dict[str, str], name: str, default: int, maximum: int | None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Reply(
            400,
            "VALIDATION_ERROR",
            f"{name} must be an integer",
            {"field": name, "reason": "must be an integer", "value": raw},
        ) from None
    if value < 1:
        raise _Reply(
            400,
            "VALIDATION_ERROR",
            f"{name} must be at least 1",
            {"field": name, "reason": "must be at least 1", "value": value},
        )
    if maximum is not None and value > maximum:
        raise _Reply(
            400,
            "VALIDATION_ERROR",
            f"{name} must be at most {maximum}",
            {"field": name, "reason": f"must be at most {maximum}", "value": value},
        )
    return value


def _pagination(page: int, limit: int, total: int) -> dict[str, int]:
    return {"page": page, "limit": limit, "total": total, "totalPages": math.ceil(total / limit)}


def _not_found(resource: str, ident: str) -> _Reply:
    return _Reply(404, "NOT_FOUND", f"{resource} not found", {"resource": resource, "id": ident})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "HumanlySandbox/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections must not pin a thread forever
    # Headers and body leave in one segment: with two small writes, Nagle + delayed ACK cost
    # ~40 ms per keep-alive request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    sandbox: Sandbox

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the access log would be noise in tests and would print invite-token URLs."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing -----------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[str, list[str]]:
        if path.startswith(ADMIN_PREFIX + "/"):
            return "admin", [path[len(ADMIN_PREFIX) + 1 :]]
        if not path.startswith(PREFIX + "/") or method != "GET":
            return "unknown", []
        parts = [p for p in path[len(PREFIX) + 1 :].split("/") if p]
        match parts:
            case ["candidate-interviews"]:
                return "list_candidate_interviews", []
            case ["candidate-interviews", ident]:
                return "get_candidate_interview", [ident]
            case ["candidate-interviews", ident, "results"]:
                return "results", [ident]
            case ["interviews"]:
                return "list_interviews", []
            case ["interviews", ident]:
                return "get_interview", [ident]
            case ["candidates"]:
                return "list_candidates", []
        return "unknown", []

    def _send(
        self,
        endpoint: str,
        status: int,
        body: bytes,
        headers: dict[str, str],
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        self.sandbox._count(endpoint, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(
        self, endpoint: str, reply: _Reply, meta: dict[str, Any], headers: dict[str, str]
    ) -> None:
        body = {
            "error": {"code": reply.code, "message": reply.message, "details": reply.details},
            "meta": meta,
        }
        self._send(endpoint, reply.status, orjson.dumps(body), headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        sb = self.sandbox
        raw_body = self._read_body()  # always drain it, or keep-alive desynchronises
        split = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        endpoint, args = self._route(method, split.path)
        fault_path = self.path  # path + query: what the fault dice are keyed on
        n = sb._seen(fault_path)
        meta = sb._meta(fault_path, n)

        key = self.headers.get("x-api-key")
        if key is None or key.strip() == "":
            reply = _Reply(
                401,
                "UNAUTHORIZED",
                "Missing API key",
                {"expectedFormat": "x-api-key: qapi_<key>", "header": "x-api-key"},
            )
            return self._error(endpoint, reply, meta, sb.limiter.peek())
        if key != sb.api_key:
            reply = _Reply(401, "UNAUTHORIZED", "Invalid API key", {"reason": "invalid key"})
            return self._error(endpoint, reply, meta, sb.limiter.peek())

        if endpoint == "admin":
            return self._admin(method, args[0], params, raw_body, meta)
        if endpoint == "unknown":
            reply = _Reply(
                404,
                "NOT_FOUND",
                f"No route for {method} {split.path}",
                {"resource": "route", "id": split.path},
            )
            return self._error(endpoint, reply, meta, sb.limiter.peek())

        # A 429 burst (fault) or a full window answers 429 without spending the request.
        burst_until = sb.limiter.in_burst()
        if burst_until is None and sb.dice.starts_burst(fault_path, n):
            burst_until = sb.limiter.start_burst(sb.faults.burst_seconds)
        if burst_until is not None:
            reset_at: float | None = burst_until
            headers = sb.limiter.peek()
        else:
            reset_at, headers = sb.limiter.try_spend()
        if reset_at is not None:
            limit = int(headers["X-RateLimit-Limit"])
            reply = _Reply(
                429,
                "RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded",
                {"limit": limit, "remaining": 0, "resetAt": data.iso(reset_at, millis=True)},
            )
            return self._error(endpoint, reply, meta, headers)

        delay = sb.dice.delay_seconds(fault_path, n)
        if delay > 0:
            sb.sleep(delay)
        if sb.dice.drops(fault_path, n):
            sb._count(endpoint, DROPPED)
            self.close_connection = True
            return None
        status = sb.dice.error_status(fault_path, n)
        if status == 502:
            # What a load balancer in front of the API sends: HTML, not the JSON envelope.
            html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return self._send(endpoint, 502, html, headers, "text/html")
        if status is not None:
            code = "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE"
            reply = _Reply(status, code, "Simulated server error", {})
            return self._error(endpoint, reply, meta, headers)
        try:
            body = self._api(endpoint, args, params, meta)
        except _Reply as reply:
            return self._error(endpoint, reply, meta, headers)
        return self._send(endpoint, 200, body, headers)

    # -- API endpoints ------------------------------------------------------------------

    def _api(
        self, endpoint: str, args: list[str], params: dict[str, str], meta: dict[str, Any]
    ) -> bytes:
        sb = self.sandbox
        store = sb.store
        faults = sb.faults
        if endpoint == "list_candidate_interviews":
            page = _int_param(params, "page", 1, None)
            limit = _int_param(params, "limit", 50, MAX_LIMIT)
            items, total = store.list_page(
                page,
                limit,
                status=params.get("status") or None,
                candidate_id=params.get("candidateId") or None,
                interview_id=params.get("interviewId") or None,
            )
            if faults.page_drift:
                store.drift(faults.page_drift)
            if faults.extra_fields:
                items = [add_extra_fields(i, "item") for i in items]
            return orjson.dumps(
                {"data": items, "meta": {**meta, "pagination": _pagination(page, limit, total)}}
            )
        if endpoint == "get_candidate_interview":
            obj = store.candidate_interview(args[0])
            if obj is None:
                raise _not_found("candidate_interview", args[0])
            if faults.extra_fields:
                obj = add_extra_fields(obj, "full")
            return orjson.dumps({"data": obj, "meta": meta})
        if endpoint == "results":
            res = store.results(args[0])
            if res is None:
                raise _not_found("candidate_interview_results", args[0])
            payload: Any = res
            if faults.extra_fields:
                payload = add_extra_fields(payload, "results")
            if faults.numbers_as_strings:
                payload = stringify_numbers(payload)
            body = orjson.dumps({"data": payload, "meta": meta})
            return truncate(body) if sb.dice.malformed(args[0]) else body
        if endpoint == "list_interviews":
            page = _int_param(params, "page", 1, None)
            limit = _int_param(params, "limit", 50, MAX_LIMIT)
            archived = _bool_param(params, "archived")
            kind = params.get("interviewType") or None
            if kind not in (None, "standard", "questionnaire"):
                raise _Reply(
                    400,
                    "VALIDATION_ERROR",
                    "interviewType must be standard or questionnaire",
                    {"field": "interviewType", "reason": "must be standard or questionnaire"},
                )
            everything = store.interviews(archived=archived, interview_type=kind)
            chunk = everything[(page - 1) * limit : page * limit]
            return orjson.dumps(
                {
                    "data": chunk,
                    "meta": {**meta, "pagination": _pagination(page, limit, len(everything))},
                }
            )
        if endpoint == "get_interview":
            interview = store.interview(args[0])
            if interview is None:
                raise _not_found("interview", args[0])
            # Newer docs wrap the object as data.interview; the sandbox serves the newer form.
            return orjson.dumps({"data": {"interview": interview}, "meta": meta})
        if endpoint == "list_candidates":
            page = _int_param(params, "page", 1, None)
            size = _int_param(params, "pageSize", 10, MAX_LIMIT)
            people, total = store.candidates(page, size)
            pagination = {**_pagination(page, size, total), "pageSize": size}
            return orjson.dumps(
                {"data": {"candidates": people}, "meta": {**meta, "pagination": pagination}}
            )
        raise _Reply(404, "NOT_FOUND", "unknown endpoint", {"resource": "route", "id": endpoint})

    # -- admin --------------------------------------------------------------------------

    def _admin(
        self,
        method: str,
        action: str,
        params: dict[str, str],
        raw_body: bytes,
        meta: dict[str, Any],
    ) -> None:
        sb = self.sandbox
        headers = sb.limiter.peek()
        try:
            if action == "advance" and method == "POST":
                days: Any = params.get("days")
                if days is None and raw_body.strip():
                    try:
                        parsed = orjson.loads(raw_body)
                    except orjson.JSONDecodeError:
                        raise _Reply(
                            400,
                            "VALIDATION_ERROR",
                            "body must be JSON",
                            {"field": "body", "reason": "invalid JSON"},
                        ) from None
                    days = parsed.get("days") if isinstance(parsed, dict) else None
                try:
                    value = 1.0 if days is None else float(days)
                    now = sb.advance(value)
                except (TypeError, ValueError):
                    raise _Reply(
                        400,
                        "VALIDATION_ERROR",
                        "days must be a number >= 0",
                        {"field": "days", "reason": "must be a number >= 0"},
                    ) from None
                body = {
                    "data": {
                        "now": data.iso(now.timestamp()),
                        "days": value,
                        "total": sb.store.total(),
                    },
                    "meta": meta,
                }
            elif action == "stats" and method == "GET":
                body = {"data": self._stats(), "meta": meta}
            elif action == "reset-counts" and method == "POST":
                sb.reset_counts()
                body = {"data": {"counts": {}}, "meta": meta}
            else:
                raise _Reply(
                    404,
                    "NOT_FOUND",
                    f"No admin route {method} {action}",
                    {"resource": "route", "id": action},
                )
        except _Reply as reply:
            return self._error("admin", reply, meta, headers)
        return self._send("admin", 200, orjson.dumps(body), headers)

    def _stats(self) -> dict[str, Any]:
        sb = self.sandbox
        counts = sb.request_counts()
        return {
            "now": data.iso(sb.store.now_ts),
            "total": sb.store.total(),
            "requestsSpent": sb.requests_spent(),
            "counts": {
                name: {str(s): n for s, n in sorted(v.items())}
                for name, v in sorted(counts.items())
            },
        }


def _bool_param(params: dict[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise _Reply(
        400,
        "VALIDATION_ERROR",
        f"{name} must be true or false",
        {"field": name, "reason": "must be true or false"},
    )
