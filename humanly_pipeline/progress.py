"""Progress of long work (listing pages, results fetched), from inside assets to whoever watches.

Assets report; the CLI installs a sink that draws progress bars or prints plain lines; under
`dagster dev` no sink is installed and assets log milestones through Dagster instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    stage: str  # "listing" | "fetching" | "waiting" | "flattening" | "publishing"
    done: int
    total: int | None
    message: str = ""


Sink = Callable[[Progress], None]

_lock = threading.Lock()
_sink: Sink | None = None


@contextmanager
def reporting_to(sink: Sink) -> Iterator[None]:
    """Send every progress report in this process to `sink` while the block runs."""
    global _sink
    with _lock:
        previous, _sink = _sink, sink
    try:
        yield
    finally:
        with _lock:
            _sink = previous


def report(stage: str, done: int, total: int | None = None, message: str = "") -> None:
    sink = _sink
    if sink is not None:
        sink(Progress(stage, done, total, message))


def has_sink() -> bool:
    return _sink is not None
