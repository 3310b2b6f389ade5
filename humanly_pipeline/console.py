"""What the CLI shows a person: progress while it works and a summary at the end.

Progress bars when stderr is a terminal (rich), plain throttled lines otherwise (logs, CI).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from humanly_pipeline import progress

if TYPE_CHECKING:  # the runner imports Dagster: only when a run actually happens
    from humanly_pipeline.runner import RunSummary

# Shown at the end of the demo: one line each, so they can be copied as they are. They use the
# modeled views (humanly_pipeline/views.py), the shortest way to an answer.
EXAMPLE_QUERIES = (
    "SELECT created_date, invited, completed, reviewed, hired, round(completion_rate, 2) AS "
    "completion_rate FROM funnel_daily ORDER BY created_date DESC LIMIT 7",
    "SELECT status, count(*) AS interviews, round(median(hours_to_complete), 1) AS "
    "median_hours_to_answer, round(avg(scorecard_overall_score), 2) AS avg_scorecard "
    "FROM interview_facts GROUP BY status ORDER BY interviews DESC",
    "SELECT criterion, sum(results)::BIGINT AS results, "
    "round(100 * sum(mean_score_pct * results) / sum(results)) AS mean_pct "
    "FROM criterion_scores GROUP BY criterion ORDER BY mean_pct DESC LIMIT 10",
)

LABELS = {
    "listing": "listing pages",
    "fetching": "fetching results",
    "flattening": "flattening dates",
    "publishing": "publishing DuckDB",
}


@contextmanager
def showing_progress(quiet: bool = False, stream: TextIO | None = None) -> Iterator[None]:
    """Install a progress sink for the duration of the block."""
    stream = stream or sys.stderr
    if quiet:
        yield
        return
    if stream.isatty():
        with _bars(stream) as sink, progress.reporting_to(sink):
            yield
    else:
        with progress.reporting_to(_lines(stream)):
            yield


@contextmanager
def _bars(stream: TextIO) -> Iterator[progress.Sink]:
    bars = Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=Console(file=stream),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def sink(p: progress.Progress) -> None:
        if p.stage == "waiting":
            bars.console.print(f"[yellow]waiting[/]: {p.message}")
            return
        if p.stage not in tasks:
            tasks[p.stage] = bars.add_task(LABELS.get(p.stage, p.stage), total=p.total, note="")
        bars.update(tasks[p.stage], completed=p.done, total=p.total)

    with bars:
        yield sink


def _lines(stream: TextIO, every_seconds: float = 5.0) -> progress.Sink:
    last: dict[str, float] = {}

    def sink(p: progress.Progress) -> None:
        now = time.monotonic()
        finished = p.total is not None and p.done >= p.total
        if p.stage == "waiting" or finished or now - last.get(p.stage, 0.0) >= every_seconds:
            last[p.stage] = now
            total = f"/{p.total}" if p.total is not None else ""
            label = LABELS.get(p.stage, p.stage)
            print(f"{label}: {p.done}{total} {p.message}".rstrip(), file=stream, flush=True)

    return sink


def print_summary(summary: RunSummary, stream: TextIO | None = None) -> None:
    out = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
    fetch = summary.fetch
    out.print(
        f"created dates {summary.start} .. {summary.end}: "
        f"{summary.index.get('in_range', 0)} interviews in range, "
        f"{summary.index.get('listed', 0)} listed"
    )
    out.print(
        f"requests: {summary.requests_total} "
        f"(listing {summary.listing_requests}, results {summary.results_requests}), "
        f"429s: {summary.rate_limited}"
    )
    out.print(
        f"results: fetched {fetch.get('fetched', 0)}, skipped {fetch.get('skipped', 0)}, "
        f"not found {fetch.get('not_found', 0)}, pending {fetch.get('pending', 0)}, "
        f"unreadable {fetch.get('malformed', 0)}, failed {fetch.get('failed', 0)}, "
        f"left for next run {fetch.get('not_attempted', 0)}"
    )
    if summary.rows:
        width = max(len(name) for name in summary.rows)
        out.print("rows:")
        for name, count in summary.rows.items():
            out.print(f"  {name:<{width}}  {count:>9,}")
    out.print(f"time: {summary.seconds:.1f} s")
    out.print(f"DuckDB: {summary.duckdb_path}")


def print_next_steps(database: Path, stream: TextIO | None = None) -> None:
    """How to open the warehouse, and three queries to try on it."""
    out = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
    out.print()
    out.print("open it read-only:")
    out.print(f"  python: duckdb.connect('{database}', read_only=True).sql('...').show()")
    out.print(f"  DuckDB CLI (any 1.x or 2.x): duckdb -readonly {database}")
    out.print("  notebook: notebooks/analysis.ipynb; tables and columns: docs/warehouse.md")
    out.print("three queries to try:")
    for sql in EXAMPLE_QUERIES:
        out.print(f"  {sql}", markup=False)
