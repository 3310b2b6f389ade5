"""humanly_pipeline: Humanly Gather API -> raw landing -> Arrow -> Hive Parquet -> DuckDB.

Importing the package builds nothing and calls nothing; see `definitions.py` for Dagster and
`cli.py` for the `humanly-pipeline` command.
"""

__version__ = "0.1.0"
