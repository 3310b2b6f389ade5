"""notebooks/analysis.ipynb, executed as an analyst would run it against a fresh demo warehouse:
no errors, the venv's own interpreter, the four charts written, and the numbers it prints equal
to the warehouse's. Also: the demo that builds that warehouse ends with what an analyst needs,
and the committed notebook carries no outputs."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import query

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "analysis.ipynb"
CHARTS = ("funnel", "scores", "time_to_complete", "criteria")
CLI = str(Path(sys.executable).with_name("humanly-pipeline"))


@dataclass
class Demo:
    warehouse: Path
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    warehouse = tmp_path_factory.mktemp("demo") / "warehouse"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    result = subprocess.run(
        [CLI, "demo", "--warehouse", str(warehouse), "--interviews", "300", "--days", "20"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return Demo(warehouse, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def executed(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    charts = tmp_path_factory.mktemp("charts")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Appended here, not committed: which interpreter the kernel really runs.
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    with pytest.MonkeyPatch.context() as mp:
        # The kernel inherits this process's environment.
        mp.setenv("HUMANLY_WAREHOUSE_DIR", str(demo.warehouse))
        mp.setenv("HUMANLY_CHARTS_DIR", str(charts))
        mp.setenv("MPLBACKEND", "Agg")
        client = NotebookClient(
            nb,
            timeout=180,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        )
        client.execute()  # raises CellExecutionError on the first failing cell
    yield nb, charts


def _stream_text(nb: Any) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )


def test_the_notebook_runs_without_errors_in_the_venvs_own_kernel(
    executed: tuple[Any, Path],
) -> None:
    nb, _ = executed
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert f"KERNEL {sys.executable}\n" in _stream_text(nb)


def test_the_notebook_writes_its_four_charts(executed: tuple[Any, Path]) -> None:
    nb, charts = executed
    for name in CHARTS:
        png = (charts / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 400 and height >= 200, (name, width, height)
        assert len(png) > 10_000, name  # an empty axes is ~5 KB; these have data drawn
    inline = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(inline) >= len(CHARTS)


def test_the_funnel_the_notebook_prints_is_the_warehouses(
    demo: Demo, executed: tuple[Any, Path]
) -> None:
    nb, _ = executed
    line = re.search(r"^Funnel totals: (.*)$", _stream_text(nb), re.MULTILINE)
    assert line, _stream_text(nb)
    printed = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", line.group(1))}
    (row,) = query(
        demo.warehouse,
        "SELECT count(*), count(*) FILTER (responded), count(*) FILTER (completed), "
        "count(*) FILTER (reviewed), count(*) FILTER (status = 'hired') FROM interview_facts",
    )
    assert printed == dict(
        zip(["invited", "responded", "completed", "reviewed", "hired"], row, strict=True)
    )
    assert row[0] == query(demo.warehouse, "SELECT count(*) FROM candidate_interviews")[0][0]
    hours = query(
        demo.warehouse,
        "SELECT count(*), median(hours_to_complete) FROM interview_facts "
        "WHERE completed AND hours_to_complete IS NOT NULL",
    )[0]
    assert f"completed interviews: {hours[0]}, median {hours[1]:.1f} h" in _stream_text(nb)


def test_the_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, (
        f"code cells {dirty} of notebooks/analysis.ipynb carry outputs; clear them "
        "(Jupyter: Edit > Clear Outputs of All Cells) before committing"
    )
    assert nb.metadata.kernelspec.name == "python3"


def test_the_demo_ends_with_rows_requests_time_the_file_and_queries_that_run(
    demo: Demo,
) -> None:
    count = query(demo.warehouse, "SELECT count(*) FROM candidate_interviews")[0][0]
    out = demo.stdout
    assert f"candidate_interviews  {count:>9,}" in out
    assert re.search(r"^requests: \d+ ", out, re.MULTILINE)
    assert re.search(r"^time: [\d.]+ s$", out, re.MULTILINE)
    assert str(demo.warehouse / "humanly.duckdb") in out
    queries = re.findall(r"^\s+(SELECT .*)$", out, re.MULTILINE)
    assert len(queries) == 3, out
    for sql in queries:
        assert query(demo.warehouse, sql), sql  # each example returns rows
    assert "listing pages" in demo.stderr and "fetching results" in demo.stderr
