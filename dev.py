#!/usr/bin/env python3
"""Set up a virtual environment on first use, then run the app or the tests.

    python3 dev.py app [ARGS...]    open PromptStudio (ARGS go to the app)
    python3 dev.py test [ARGS...]   run the test suite (ARGS go to pytest)
    python3 dev.py lint             ruff, the import-linter contracts and mypy on the core
    python3 dev.py bench [--quick]  run every benchmark; results go to docs/PERFORMANCE.md

The environment lives in .venv/ and is rebuilt only when pyproject.toml changes, so a
second call starts at once. Works on Linux, macOS and Windows with Python >= 3.11.
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
STAMP = VENV / ".promptstudio-setup"


def venv_python() -> Path:
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


def ensure_env() -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py may be started by an older python3)
        sys.exit(f"PromptStudio needs Python >= 3.11; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    python = venv_python()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    if not python.exists():
        print("dev.py: creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing dependencies (first run only) ...", file=sys.stderr)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"app", "test", "lint", "bench"}:
        print(__doc__, file=sys.stderr)
        return 2
    python = str(ensure_env())
    command, rest = argv[0], argv[1:]
    if command == "app":
        return subprocess.call([python, "-m", "promptstudio", *rest], cwd=ROOT)
    if command == "test":
        return subprocess.call([python, "-m", "pytest", *rest], cwd=ROOT)
    if command == "bench":
        return subprocess.call([python, str(ROOT / "bench" / "run_all.py"), *rest], cwd=ROOT)
    bindir = Path(python).parent
    steps = [
        [str(bindir / "ruff"), "check", "."],
        [str(bindir / "lint-imports")],
        [python, "-m", "mypy"],
    ]
    return max(subprocess.call(step, cwd=ROOT) for step in steps)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
