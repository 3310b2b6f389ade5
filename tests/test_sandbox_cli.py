"""`humanly-pipeline sandbox` as a real subprocess: banner, a request, SIGINT, exit code 0."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from humanly_pipeline.sandbox.server import default_api_key

ENTRY = Path(sys.executable).parent / "humanly-pipeline"
BANNER = re.compile(r"Sandbox Gather API at (http://127\.0\.0\.1:\d+) \(api key: (qapi_\S+)\)")


def _start(*args: str) -> tuple[subprocess.Popen[str], str, str, list[str]]:
    proc = subprocess.Popen(
        [str(ENTRY), "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found: list[re.Match[str]] = []
    ready = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            match = BANNER.search(line)
            if match and not found:
                found.append(match)
                ready.set()
        ready.set()

    threading.Thread(target=reader, daemon=True).start()
    if not ready.wait(60) or not found:
        proc.kill()
        raise AssertionError("no banner:\n" + "".join(lines))
    return proc, found[0].group(1), found[0].group(2), lines


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_cli_serves_until_sigint() -> None:
    proc, url, key, lines = _start("--interviews", "40", "--seed", "3")
    try:
        assert key == default_api_key(3)
        r = httpx.get(
            f"{url}/qsi/gather/candidate-interviews", headers={"x-api-key": key}, timeout=10
        )
        assert r.status_code == 200
        assert r.json()["meta"]["pagination"]["total"] == 40
        assert r.headers["x-ratelimit-limit"] == "1000"
        assert any("curl" in line for line in lines)
    finally:
        code = _stop(proc)
    assert code == 0


@pytest.mark.slow
def test_cli_fault_flags_and_sigterm() -> None:
    proc, url, key, _ = _start(
        "--interviews",
        "40",
        "--seed",
        "4",
        "--api-key",
        "qapi_mine",
        "--requests-per-minute",
        "0",
        "--requests-per-hour",
        "0",
        "--extra-fields",
        "--unknown-status-rate",
        "1",
        "--page-drift",
        "2",
    )
    try:
        assert key == "qapi_mine"
        client = httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=10)
        first = client.get("/qsi/gather/candidate-interviews").json()
        item = first["data"][0]
        assert item["status"] == "on_hold"
        assert "sourceChannel" in item
        second = client.get("/qsi/gather/candidate-interviews").json()
        assert second["meta"]["pagination"]["total"] == 42
        assert client.get("/qsi/gather/candidate-interviews").headers["x-ratelimit-limit"] == (
            "1000000"
        )
        client.close()
    finally:
        code = _stop(proc, signal.SIGTERM)
    assert code == 0


def test_cli_rejects_bad_knobs() -> None:
    from click.testing import CliRunner

    from humanly_pipeline.sandbox.cli import sandbox_command

    result = CliRunner().invoke(sandbox_command, ["--error-rate", "2"])
    assert result.exit_code == 2
    assert "error-rate" in result.output
