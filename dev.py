"""One-command entry points for a fresh clone: `python3 dev.py demo` and `python3 dev.py test`.

Owns only bootstrapping: it creates `.venv`, installs the package with the pinned versions of
`constraints.txt` (again whenever setup.py or the constraints change), then runs the demo or the
whole test suite (lint, format check, type check, pytest) inside that environment.
Standard library only, because it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".install-stamp"


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("setup.py", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _run(*cmd: str | Path) -> None:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_installed(extras: str) -> None:
    """Create the venv and install the pinned dependencies unless already done for these files."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before anything checks this
        sys.exit("humanly_pipeline needs Python 3.11 or newer")
    wanted = _fingerprint(extras)
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [BIN / "python", "-m", "pip", "--disable-pip-version-check"]
    target = f".[{extras}]" if extras else "."
    _run(*pip, "install", "-q", "-c", "constraints.txt", "-e", target)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print("usage: python3 dev.py demo [demo options] | python3 dev.py test [pytest options]")
        return 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        ensure_installed("")
        return subprocess.call([str(BIN / "humanly-pipeline"), "demo", *rest], cwd=ROOT)
    ensure_installed("dev")
    try:
        _run(BIN / "ruff", "check", ".")
        _run(BIN / "ruff", "format", "--check", ".")
        _run(BIN / "mypy")
        _run(BIN / "python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", *rest)
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
