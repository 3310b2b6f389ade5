"""The `humanly-pipeline` command as a user meets it: exit codes, one-line errors, the summary."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from humanly_pipeline.cli import main, resolve_dates
from tests.helpers import query, run_args, sandbox, sandbox_env, window

CLI = str(Path(sys.executable).with_name("humanly-pipeline"))


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [CLI, *args], env={**base, **(env or {})}, capture_output=True, text=True, timeout=300
    )


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, "HUMANLY_API_KEY is not set"),
        (["--start-date", "2026-13-01"], {"HUMANLY_API_KEY": "k"}, "--start-date must be a date"),
        (["--end-date", "yesterday"], {"HUMANLY_API_KEY": "k"}, "--end-date must be a date"),
        (
            ["--start-date", "2026-03-02", "--end-date", "2026-03-01"],
            {"HUMANLY_API_KEY": "k"},
            "is after --end-date",
        ),
        (["--start-date", "2019-01-01"], {"HUMANLY_API_KEY": "k"}, "before the first partition"),
        (["--end-date", "2999-01-01"], {"HUMANLY_API_KEY": "k"}, "in the future"),
        (
            [],
            {"HUMANLY_API_KEY": "k", "HUMANLY_CONCURRENCY": "lots"},
            "HUMANLY_CONCURRENCY must be",
        ),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    args: list[str], env: dict[str, str], expected: str, warehouse: Path
) -> None:
    result = CliRunner().invoke(main, ["run", "--warehouse", str(warehouse), *args], env=env)
    assert result.exit_code == 2
    assert expected in one_error_line(result.stderr)


def test_an_unwritable_warehouse_gets_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(
        main, ["run", "--warehouse", str(blocker / "warehouse")], env={"HUMANLY_API_KEY": "k"}
    )
    assert result.exit_code == 2
    assert f"cannot write to warehouse directory {blocker}" in one_error_line(result.stderr)


def test_default_dates_are_the_nightly_lookback() -> None:
    today = date(2026, 12, 3)
    assert resolve_dates(None, None, today) == (date(2026, 11, 4), today)
    assert resolve_dates("2026-12-01", None, today) == (date(2026, 12, 1), today)


def test_an_unreachable_api_fails_with_one_line_and_exit_1(warehouse: Path) -> None:
    result = cli(
        "run",
        "--warehouse",
        str(warehouse),
        "--quiet",
        env={
            "HUMANLY_API_KEY": "qapi_unreachable_secret",
            "HUMANLY_BASE_URL": "http://127.0.0.1:9",
        },
    )
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert "127.0.0.1:9" in line and "qapi_unreachable_secret" not in result.stderr + result.stdout


def test_a_rejected_key_names_the_variable_never_the_key(warehouse: Path) -> None:
    with sandbox() as sb:
        result = cli(
            "run",
            "--warehouse",
            str(warehouse),
            "--quiet",
            env={"HUMANLY_API_KEY": "qapi_wrong_secret_123", "HUMANLY_BASE_URL": sb.base_url},
        )
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert "HUMANLY_API_KEY" in line and "401" in line
    assert "qapi_wrong_secret_123" not in result.stderr + result.stdout


def test_a_successful_run_prints_the_summary_and_exits_0(warehouse: Path) -> None:
    with sandbox() as sb:
        start, end = window(sb)
        result = cli(
            *run_args(warehouse, start, end),
            env=sandbox_env(sb),
        )
        spent = sum(sum(v.values()) for k, v in sb.request_counts().items() if k != "admin")
    assert result.returncode == 0, result.stderr
    count = query(warehouse, "SELECT count(*) FROM candidate_interviews")[0][0]
    assert f"candidate_interviews  {count:>9,}" in result.stdout
    assert f"requests: {spent} " in result.stdout
    assert str(warehouse / "humanly.duckdb") in result.stdout
    assert "fetching results" in result.stderr  # progress, plain lines when not a terminal
    assert sb.api_key not in result.stdout + result.stderr
