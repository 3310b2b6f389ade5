"""`humanly-pipeline sandbox`: serve the embedded Gather API until interrupted."""

from __future__ import annotations

import click


@click.command("sandbox")
def sandbox_command() -> None:
    """Serve the sandbox Gather API (placeholder until the sandbox lands)."""
    raise click.ClickException("not implemented yet")
