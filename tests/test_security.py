"""Nothing secret leaks: the API key and invite tokens reach no file under the warehouse, no
Dagster storage, no log line and no output — even when the API itself leaks a token."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from humanly_pipeline.sandbox import Faults
from tests.helpers import sandbox, sandbox_env, window

pytestmark = pytest.mark.slow


def every_string_value(warehouse: Path) -> list[str]:
    """All text in every table of humanly.duckdb and every Parquet file, decompressed: a byte
    scan alone would miss a secret inside a compressed page."""
    values: list[str] = []
    con = duckdb.connect(str(warehouse / "humanly.duckdb"), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'"
        ).fetchall()
        for table, column in columns:
            rows = con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
            values.extend(r[0] for r in rows.fetchall())
    finally:
        con.close()
    for path in (warehouse / "parquet").rglob("*.parquet"):
        table = pq.read_table(path)
        for column in table.itercolumns():
            values.extend(str(v) for v in column.to_pylist() if isinstance(v, str))
    return values


def test_no_secret_reaches_a_file_a_log_or_dagster_storage(
    warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from dagster import instance_for_test

    from humanly_pipeline.definitions import defs
    from humanly_pipeline.schedules import range_tags

    caplog.set_level(logging.DEBUG)
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    with sandbox(faults=Faults(extra_fields=True, error_rate=0.05)) as sb:
        start, end = window(sb)
        ids = [item["id"] for item in sb.store.listing()]
        tokens = {i: sb.store.candidate_interview(i)["inviteToken"] for i in ids}  # type: ignore[index]
        assert all(t and len(t) > 8 for t in tokens.values())
        original = sb.store.results

        def leaky(candidate_interview_id: str) -> dict[str, Any] | None:
            # An API that (wrongly) echoes the invite token, top level and nested.
            payload = original(candidate_interview_id)
            if payload is None:
                return None
            token = tokens[candidate_interview_id]
            return {**payload, "inviteToken": token, "invite": {"inviteToken": token}}

        monkeypatch.setattr(sb.store, "results", leaky)
        for name, value in sandbox_env(sb, warehouse).items():
            monkeypatch.setenv(name, value)
        with instance_for_test(temp_dir=str(dagster_home)) as instance:
            job = defs.resolve_job_def("humanly_nightly")
            result = job.execute_in_process(instance=instance, tags=range_tags(start, end))
            assert result.success
        secrets = [sb.api_key, *tokens.values()]

    # The run really carried the leaked tokens through: they were fetched and then dropped.
    landed = list((warehouse / "raw").rglob("*.json"))
    assert landed
    files = [p for root in (warehouse, dagster_home) for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" or "sqlite" in p.name for p in files)  # Dagster storage scanned
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret is in {path}"
    values = every_string_value(warehouse)
    assert values
    for secret in secrets:
        assert not any(secret in v for v in values)
    out, err = capfd.readouterr()
    logs = caplog.text
    assert logs and (out + err + logs)
    for secret in secrets:
        assert secret not in out + err + logs
