"""The benchmark suite, one command: B1 peer (dlt) vs us, B2 incremental, B3 budget use, B4 scale.

    python3 benchmarks/run.py            # everything, full size (about 25 min on 2 shared CPUs)
    python3 benchmarks/run.py --quick    # small sizes, a few minutes: checks that it all works
    python3 benchmarks/run.py --only B1 B3

On first use it creates `benchmarks/.venv` (gitignored), a separate environment holding the
project (`pip install -e .` with the project's constraints.txt) plus dlt from
`benchmarks/requirements.txt`; dlt is a benchmark-only dependency and never enters the project's
own environments. It is rebuilt when requirements.txt, constraints.txt or setup.py change.

Writes one JSON per benchmark and `summary.json` under `benchmarks/out/` (gitignored), and prints
a Markdown table per benchmark plus the summary of the four figures against their goals.
This file uses only the standard library until it has re-executed itself inside the venv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".bench-install-stamp"
INPUTS = (HERE / "requirements.txt", ROOT / "constraints.txt", ROOT / "setup.py")

FULL = {
    "B1": {"interviews": 7000, "repeats": 3, "days": 60.0},
    "B2": {"interviews": 7000, "days": 60.0},
    "B3": {"interviews": 2900, "per_minute": 600, "days": 60.0},
    "B4": {"interviews": 100_000, "days": 60.0},
}
QUICK = {
    "B1": {"interviews": 700, "repeats": 1, "days": 10.0},
    "B2": {"interviews": 700, "days": 10.0},
    "B3": {"interviews": 560, "per_minute": 300, "days": 10.0},
    "B4": {"interviews": 3000, "days": 10.0},
}


def _digest() -> str:
    h = hashlib.sha256()
    for path in INPUTS:
        h.update(path.read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    """Create or refresh benchmarks/.venv, then re-run this script inside it."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    digest = _digest()
    if not (STAMP.exists() and STAMP.read_text().strip() == digest):
        print(f"setting up {VENV} (project + dlt, pinned) ...", flush=True)
        if not VENV_PYTHON.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(VENV_PYTHON),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-c",
                str(ROOT / "constraints.txt"),
                "-r",
                str(HERE / "requirements.txt"),
                "-e",
                str(ROOT),
            ],
            check=True,
        )
        STAMP.write_text(digest)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


def summary_rows(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| benchmark | figure | goal | met |", "|---|---|---|---|"]
    if "B1" in results:
        r = results["B1"]["ratios"]
        ours, peer = results["B1"]["ours"], results["B1"]["dlt"]
        lines.append(
            f"| B1 full load vs dlt rest_api | wall {r['wall']:.2f}x "
            f"({ours['wall_s_median']:.0f} s vs {peer['wall_s_median']:.0f} s), requests "
            f"{r['requests']:.2f}x ({ours['requests_median']:.0f} vs {peer['requests_median']:.0f})"
            f", peak RSS {r['peak_rss']:.2f}x ({ours['peak_rss_mib_median']:.0f} vs "
            f"{peer['peak_rss_mib_median']:.0f} MiB); complete: ours {ours['all_complete']}, "
            f"dlt {peer['all_complete']} | wall <= 0.33x with requests <= 1x "
            f"| {_yes(results['B1']['goal']['met'])} |"
        )
    if "B2" in results:
        r = results["B2"]
        lines.append(
            f"| B2 incremental after 1 day | {r['second_run']['requests']['total']} requests vs "
            f"minimum {r['minimum']['total']} ({r['ratio']:.3f}x) | = minimum "
            f"| {_yes(r['goal']['met'])} |"
        )
    if "B3" in results:
        r = results["B3"]
        lines.append(
            f"| B3 budget use at {r['config']['per_minute']}/min | {r['ratio']:.1%} of the allowed "
            f"rate over {r['whole_windows']} whole windows, "
            f"{r['requests']['rate_limited_429']} x 429 | >= 95 %, zero 429 "
            f"| {_yes(r['goal']['met'])} |"
        )
    if "B4" in results:
        r = results["B4"]
        lines.append(
            f"| B4 scale, {r['config']['interviews']:,} interviews | peak RSS "
            f"{r['peak_rss_mib']:.0f} MiB; flatten {r['flatten']['ratio']:.2f}x orjson.loads | "
            f"< 1024 MiB and <= 3x | {_yes(r['goal']['met'])} |"
        )
    return lines


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--only", nargs="+", choices=sorted(FULL), default=sorted(FULL))
    parser.add_argument("--repeats", type=int, help="B1: runs per side (default 3, quick 1)")
    parser.add_argument(
        "--workers",
        type=int,
        default=8,
        help="B1: HUMANLY_CONCURRENCY for us = dlt [extract] workers",
    )
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    ensure_venv()

    sys.path.insert(0, str(HERE))
    import bench_budget
    import bench_incremental
    import bench_peer
    import bench_scale
    from common import machine

    sizes = QUICK if args.quick else FULL
    modules = {"B1": bench_peer, "B2": bench_incremental, "B3": bench_budget, "B4": bench_scale}
    titles = {
        "B1": "full load, dlt rest_api vs humanly_pipeline",
        "B2": "incremental run",
        "B3": "rate-budget use",
        "B4": "scale",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python3 benchmarks/run.py", *sys.argv[1:]])
    info = machine()
    print(
        f"# {info['date']} | {info['host']} | {info['platform']} | {info['cpus']} CPUs | "
        f"load {info['load_average']} | Python {info['python']} | dlt {info['dlt']} | "
        f"duckdb {info['duckdb']}",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    for name in args.only:
        kwargs: dict[str, Any] = dict(sizes[name])
        if name == "B1":
            kwargs["workers"] = args.workers
            if args.repeats:
                kwargs["repeats"] = args.repeats
        print(f"\n## {name}: {titles[name]} {kwargs}", flush=True)
        began = time.perf_counter()
        result = modules[name].run(**kwargs)
        result["seconds"] = round(time.perf_counter() - began, 1)
        result["machine"] = info
        result["command"] = command
        result["quick"] = args.quick
        results[name] = result
        (args.out / f"{name.lower()}.json").write_text(json.dumps(result, indent=2, default=str))
        print(modules[name].table(result), flush=True)
    print("\n## Summary\n")
    print("\n".join(summary_rows(results)))
    (args.out / "summary.json").write_text(
        json.dumps(
            {
                "machine": info,
                "command": command,
                "quick": args.quick,
                "lines": summary_rows(results),
                "goals_met": {k: v["goal"]["met"] for k, v in results.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
