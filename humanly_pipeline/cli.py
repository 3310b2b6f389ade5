"""The `humanly-pipeline` command: `demo`, `run` and `sandbox` (see CONTRACT.md)."""

from __future__ import annotations

import click

from humanly_pipeline.sandbox.cli import sandbox_command


@click.group()
@click.version_option(package_name="humanly_pipeline")
def main() -> None:
    """Move Humanly interview data from the Gather API into Parquet and DuckDB."""


main.add_command(sandbox_command)
