"""Shared helpers for the sandbox tests: a fixed virtual now, a fake wall clock, an HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from humanly_pipeline.sandbox import Faults, Sandbox

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LIST = "/qsi/gather/candidate-interviews"


class FakeClock:
    """Wall time for the rate limiter, moved by hand so tests never sleep."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def tick(self, seconds: float) -> None:
        self.t += seconds


@contextmanager
def running(
    interviews: int = 200,
    seed: int = 7,
    faults: Faults | None = None,
    **kwargs: Any,
) -> Iterator[tuple[Sandbox, httpx.Client]]:
    """A started sandbox (no rate limit unless asked) and a client that sends its key."""
    kwargs.setdefault("requests_per_hour", 0)
    kwargs.setdefault("requests_per_minute", 0)
    kwargs.setdefault("now", NOW)
    with (
        Sandbox(interviews, seed, faults=faults, **kwargs) as sb,
        httpx.Client(base_url=sb.base_url, headers={"x-api-key": sb.api_key}, timeout=10) as client,
    ):
        yield sb, client


def list_all(client: httpx.Client, limit: int = 100, **params: Any) -> list[dict[str, Any]]:
    """Page through the candidate-interview listing until an empty page."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get(LIST, params={**params, "page": page, "limit": limit}).json()
        if not body["data"]:
            return items
        items.extend(body["data"])
        page += 1
