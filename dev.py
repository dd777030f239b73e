#!/usr/bin/env python3
"""Set up a virtual environment on first use, then run the app or the tests.

    python3 dev.py app [ARGS...]    open PromptStudio (ARGS go to the app)
    python3 dev.py test [ARGS...]   run the test suite (ARGS go to pytest)
    python3 dev.py lint             ruff check and format --check, import-linter, mypy
    python3 dev.py bench [--quick]  run every benchmark; results go to docs/PERFORMANCE.md

The environment lives in .venv/ and is rebuilt only when pyproject.toml changes, so a
second call starts at once. Works on Linux, macOS and Windows with Python >= 3.11.

    python3 dev.py --python python3.13 test ...   the same on another interpreter

``--python PY`` (or the environment variable PROMPTSTUDIO_DEV_PYTHON=PY) builds and uses
.venv-X.Y/ from that interpreter instead (X.Y is its version), so several Pythons can be
tested side by side; CI uses it to run the suite on every Python >= 3.12 it finds.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PYTHON_VAR = "PROMPTSTUDIO_DEV_PYTHON"


def venv_python(venv_dir: Path) -> Path:
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return venv_dir / sub


def interpreter_version(interpreter: str) -> tuple[int, int]:
    """(major, minor) of another interpreter; exits with a message if it cannot be run."""
    try:
        out = subprocess.run(
            [interpreter, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(f"dev.py: cannot run the interpreter {interpreter!r}: {exc}")
    major, minor = (int(part) for part in out.split())
    return major, minor


def ensure_env(interpreter: str | None = None) -> Path:
    """The venv's python: .venv/ for this interpreter, .venv-X.Y/ for another one."""
    version = sys.version_info[:2] if interpreter is None else interpreter_version(interpreter)
    if version < (3, 11):
        shown = ".".join(map(str, version))
        sys.exit(f"PromptStudio needs Python >= 3.11; this is {shown}.")
    venv_dir = ROOT / (".venv" if interpreter is None else ".venv-{}.{}".format(*version))
    stamp = venv_dir / ".promptstudio-setup"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    python = venv_python(venv_dir)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if not python.exists():
        print(f"dev.py: creating {venv_dir.name} ...", file=sys.stderr)
        if interpreter is None:
            venv.EnvBuilder(with_pip=True).create(venv_dir)
        else:
            subprocess.run([interpreter, "-m", "venv", str(venv_dir)], check=True)
    print("dev.py: installing dependencies (first run only) ...", file=sys.stderr)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    stamp.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    interpreter = os.environ.get(PYTHON_VAR) or None
    if argv[:1] == ["--python"] and len(argv) > 1:
        interpreter, argv = argv[1], argv[2:]
    elif argv and argv[0].startswith("--python="):
        interpreter, argv = argv[0].removeprefix("--python="), argv[1:]
    if not argv or argv[0] not in {"app", "test", "lint", "bench"}:
        print(__doc__, file=sys.stderr)
        return 2
    python = str(ensure_env(interpreter))
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
        [str(bindir / "ruff"), "format", "--check", "."],
        [str(bindir / "lint-imports")],
        [python, "-m", "mypy"],
    ]
    return max(subprocess.call(step, cwd=ROOT) for step in steps)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
