"""The `humanly-pipeline` command: `demo`, `run` and `sandbox` (see CONTRACT.md).

Exit codes: 0 success; 1 the run failed (API, network, storage); 2 bad input (a missing key, bad
dates, an unusable warehouse directory). Errors are one line on stderr and never contain the key.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from humanly_pipeline.console import print_next_steps, print_summary, showing_progress
from humanly_pipeline.sandbox.cli import sandbox_command
from humanly_pipeline.settings import Settings, SettingsError
from humanly_pipeline.windows import NIGHTLY_LOOKBACK_DAYS, PARTITIONS_START, lookback_range

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class Failure(click.ClickException):
    """A one-line error; the subclass chooses the exit code."""

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class BadInput(Failure):
    exit_code = EXIT_BAD_INPUT


class RunFailed(Failure):
    exit_code = EXIT_FAILED


@click.group()
@click.version_option(package_name="humanly_pipeline")
def main() -> None:
    """Move Humanly interview data from the Gather API into Parquet and DuckDB."""


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option} must be a date as YYYY-MM-DD, got {value!r}") from None


def resolve_dates(start_text: str | None, end_text: str | None, today: date) -> tuple[date, date]:
    default_start, default_end = lookback_range(today, NIGHTLY_LOOKBACK_DAYS)
    start = _parse_date(start_text, "--start-date") or default_start
    end = _parse_date(end_text, "--end-date") or (
        today if start_text and not end_text else default_end
    )
    first = date.fromisoformat(PARTITIONS_START)
    if start > end:
        raise BadInput(f"--start-date {start} is after --end-date {end}")
    if start < first:
        raise BadInput(f"--start-date {start} is before the first partition ({first})")
    if end > today:
        raise BadInput(f"--end-date {end} is in the future (today is {today} UTC)")
    return start, end


def prepare_warehouse(path: Path) -> Path:
    """Create the warehouse directory and prove it is writable, or fail with one line."""
    path = path.expanduser().resolve()
    probe = path / ".write-probe"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BadInput(f"cannot write to warehouse directory {path}: {reason}") from None
    return path


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise BadInput(str(exc)) from None


@main.command()
@click.option(
    "--warehouse",
    "warehouse",
    type=click.Path(path_type=Path),
    default=None,
    help="Warehouse directory (default: $HUMANLY_WAREHOUSE_DIR or ./warehouse).",
)
@click.option("--start-date", default=None, help="First created date (YYYY-MM-DD).")
@click.option("--end-date", default=None, help="Last created date (YYYY-MM-DD, default today).")
@click.option("--full-refresh", is_flag=True, help="Re-fetch every answered interview in range.")
@click.option(
    "--from-raw",
    is_flag=True,
    help="Rebuild the tables and humanly.duckdb from the raw landing only: no API request "
    "(no key needed).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=None,
    help="Stop fetching cleanly after this many results requests.",
)
@click.option("--quiet", is_flag=True, help="No progress output.")
def run(
    warehouse: Path | None,
    start_date: str | None,
    end_date: str | None,
    full_refresh: bool,
    from_raw: bool,
    max_requests: int | None,
    quiet: bool,
) -> None:
    """Run the nightly job against HUMANLY_BASE_URL with HUMANLY_API_KEY."""
    settings = _settings()
    if from_raw and full_refresh:
        raise BadInput("--from-raw and --full-refresh exclude each other")
    if from_raw and not settings.api_key:
        # The rebuild calls no API, but the resource binding still wants a value.
        os.environ["HUMANLY_API_KEY"] = "unused-by-from-raw"
    elif not settings.api_key:
        raise BadInput(
            "HUMANLY_API_KEY is not set (export your Gather API key, or try "
            "`humanly-pipeline demo`, which needs none)"
        )
    start, end = resolve_dates(start_date, end_date, datetime.now(UTC).date())
    root = prepare_warehouse(warehouse or settings.warehouse_dir)
    _run_and_report(
        root,
        start,
        end,
        full_refresh=full_refresh,
        max_requests=max_requests,
        from_raw=from_raw,
        quiet=quiet,
    )


def _run_and_report(root: Path, start: date, end: date, *, quiet: bool, **options: object) -> None:
    from humanly_pipeline.runner import run_pipeline  # Dagster import: only when running

    with showing_progress(quiet):
        summary = run_pipeline(root, start, end, **options)  # type: ignore[arg-type]
    if not summary.success:
        raise RunFailed(summary.error or "the run failed")
    if not quiet:
        print_summary(summary)


@main.command()
@click.option(
    "--warehouse",
    "warehouse",
    type=click.Path(path_type=Path),
    default=Path("warehouse"),
    show_default=True,
    help="Warehouse directory.",
)
@click.option(
    "--interviews",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Candidate interviews in the sandbox.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Sandbox seed.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Days of history in the sandbox (all of them are loaded).",
)
@click.option("--quiet", is_flag=True, help="No progress output.")
def demo(warehouse: Path, interviews: int, seed: int, days: int, quiet: bool) -> None:
    """Zero-config: start the sandbox API, run the job against it, print a summary."""
    from humanly_pipeline.sandbox import Sandbox

    root = prepare_warehouse(warehouse)
    # The demo lifts the rate limit on both sides so it finishes in about a minute; the
    # `sandbox` command keeps the documented 1000/hour and 100/minute by default.
    with Sandbox(
        interviews=interviews, seed=seed, days=days, requests_per_hour=0, requests_per_minute=0
    ) as sandbox:
        os.environ["HUMANLY_API_KEY"] = sandbox.api_key
        today = sandbox.now.date()
        start = max(
            date.fromordinal(today.toordinal() - days), date.fromisoformat(PARTITIONS_START)
        )
        click.echo(
            f"sandbox: {interviews} interviews at {sandbox.base_url} (seed {seed})", err=True
        )
        _run_and_report(
            root,
            start,
            today,
            quiet=quiet,
            base_url=sandbox.base_url,
            requests_per_hour=0,
            requests_per_minute=0,
            concurrency=8,
        )
    if not quiet:
        print_next_steps(root / "humanly.duckdb")


main.add_command(sandbox_command)


if __name__ == "__main__":
    sys.exit(main())
