"""Packaging for humanly_pipeline. Versions are pinned in constraints.txt, not here."""

from setuptools import find_packages, setup

setup(
    name="humanly_pipeline",
    version="0.1.0",
    description="Batch ETL from Humanly's Gather API to Hive Parquet and DuckDB, on Dagster.",
    packages=find_packages(exclude=["tests", "tests.*", "benchmarks", "benchmarks.*"]),
    python_requires=">=3.11",
    install_requires=[
        "dagster",
        "dagster-webserver",
        "duckdb",
        "pyarrow",
        "pandas",
        "httpx",
        "orjson",
        "tenacity",
        "click",
        "rich",
    ],
    extras_require={
        "dev": [
            "pytest",
            "pytest-xdist",
            "pytest-timeout",
            "hypothesis",
            "ruff",
            "mypy",
            "psutil",
            "dagster-cloud-cli",
            # notebooks/analysis.ipynb, executed by tests/test_notebook.py
            "matplotlib",
            "nbclient",
            "nbformat",
            "ipykernel",
        ],
    },
    entry_points={"console_scripts": ["humanly-pipeline=humanly_pipeline.cli:main"]},
)
