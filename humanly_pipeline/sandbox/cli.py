"""`humanly-pipeline sandbox`: serve the embedded Gather API until interrupted.

Prints the base URL and API key (a sandbox key, fine to print) and an example request, then
waits for SIGINT or SIGTERM and shuts the server down cleanly (exit code 0).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from humanly_pipeline.sandbox.faults import Faults
from humanly_pipeline.sandbox.server import Sandbox

_RATE = click.FloatRange(0.0, 1.0)


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8765, show_default=True, help="Port; 0 picks a free one.")
@click.option("--interviews", default=3000, show_default=True, help="Interviews at start.")
@click.option("--seed", default=0, show_default=True, help="Seed for data and faults.")
@click.option("--days", default=60.0, show_default=True, help="createdAt window ending now.")
@click.option(
    "--new-per-day",
    type=float,
    default=None,
    help="New interviews per virtual day [default: interviews/days].",
)
@click.option("--api-key", default=None, help="API key [default: derived from the seed].")
@click.option("--requests-per-hour", default=1000, show_default=True, help="0 = unlimited.")
@click.option("--requests-per-minute", default=100, show_default=True, help="0 = unlimited.")
@click.option("--error-rate", type=_RATE, default=0.0, help="Share answered 500/502/503.")
@click.option("--burst-rate", type=_RATE, default=0.0, help="Chance a request starts a 429 burst.")
@click.option("--burst-seconds", type=float, default=5.0, show_default=True, help="Burst length.")
@click.option("--latency-ms", type=float, default=0.0, help="Added latency per request.")
@click.option("--jitter-ms", type=float, default=0.0, help="Extra latency in [0, jitter].")
@click.option("--drop-rate", type=_RATE, default=0.0, help="Share of connections dropped.")
@click.option(
    "--malformed-rate", type=_RATE, default=0.0, help="Share of interviews with broken results."
)
@click.option(
    "--malformed-id", "malformed_ids", multiple=True, help="Interview id with broken results."
)
@click.option("--page-drift", type=int, default=0, help="New interviews after each list page.")
@click.option("--extra-fields", is_flag=True, help="Add unknown fields to payloads.")
@click.option("--numbers-as-strings", is_flag=True, help="Send result numbers as strings.")
@click.option(
    "--unknown-status-rate", type=_RATE, default=0.0, help="Share of interviews with `on_hold`."
)
def sandbox_command(
    host: str,
    port: int,
    interviews: int,
    seed: int,
    days: float,
    new_per_day: float | None,
    api_key: str | None,
    requests_per_hour: int,
    requests_per_minute: int,
    error_rate: float,
    burst_rate: float,
    burst_seconds: float,
    latency_ms: float,
    jitter_ms: float,
    drop_rate: float,
    malformed_rate: float,
    malformed_ids: tuple[str, ...],
    page_drift: int,
    extra_fields: bool,
    numbers_as_strings: bool,
    unknown_status_rate: float,
) -> None:
    """Serve the sandbox Gather API (seeded data, rate limits, faults) until interrupted."""
    try:
        faults = Faults(
            error_rate=error_rate,
            burst_rate=burst_rate,
            burst_seconds=burst_seconds,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            drop_rate=drop_rate,
            malformed_rate=malformed_rate,
            malformed_ids=frozenset(malformed_ids),
            page_drift=page_drift,
            extra_fields=extra_fields,
            numbers_as_strings=numbers_as_strings,
            unknown_status_rate=unknown_status_rate,
        )
        sandbox = Sandbox(
            interviews,
            seed,
            days=days,
            new_per_day=new_per_day,
            api_key=api_key,
            host=host,
            port=port,
            requests_per_hour=requests_per_hour,
            requests_per_minute=requests_per_minute,
            faults=faults,
        )
        sandbox.start()
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        click.echo(f"Sandbox Gather API at {sandbox.base_url} (api key: {sandbox.api_key})")
        click.echo(
            f"{interviews} interviews, seed {seed}, virtual now {sandbox.now.isoformat()}, "
            f"limits {requests_per_hour}/h {requests_per_minute}/min (0 = unlimited)"
        )
        if faults.active():
            click.echo(f"faults: {faults.active()}")
        click.echo(
            f"try: curl -H 'x-api-key: {sandbox.api_key}' "
            f"'{sandbox.base_url}/qsi/gather/candidate-interviews?limit=5'"
        )
        click.echo(
            f"advance a day: curl -X POST -H 'x-api-key: ...' {sandbox.base_url}"
            "/_sandbox/advance?days=1   (Ctrl+C to stop)"
        )
        # Wake up now and then: Event.wait without a timeout can defer signal handling.
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    click.echo("Sandbox stopped.")
