"""The real promptfoo CLI, for tests: installed from npm once into a cache, run on a config.

    python3 tests/promptfoo_cli.py      install it now (.ci/run does, before the tests)

The pinned version goes into ``.cache/promptfoo/<version>/`` at the repository's root
(ignored by git), so only the first run pays for the download. An install goes to a
temporary folder first and is renamed into place when complete: a run stopped halfway
leaves no broken cache. Stdlib only: CI runs this before any virtual environment exists.

:func:`run_eval` runs ``promptfoo eval`` with telemetry, update checks and sharing off,
its state in a folder of the caller's, no API key from the caller's environment, and
every request to another host than this machine's sent to a closed port (promptfoo
honours ``HTTPS_PROXY``), so a test never reaches the internet.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PROMPTFOO_VERSION = "0.121.20"  # what issue 16 was checked with; runs on Node 20
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "promptfoo" / PROMPTFOO_VERSION
_KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE_URL")


class NpmMissing(RuntimeError):
    """``npm`` is not on PATH, so promptfoo cannot be installed."""


def executable(cache: Path = CACHE) -> Path:
    return cache / "node_modules" / ".bin" / ("promptfoo.cmd" if os.name == "nt" else "promptfoo")


def install(cache: Path = CACHE) -> Path:
    """The promptfoo executable, installed from npm first when the cache lacks it."""
    found = executable(cache)
    if found.exists():
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise NpmMissing("npm is not installed (promptfoo is an npm package)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{cache.name}-", dir=cache.parent))
    try:
        subprocess.run(
            [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund",
             "--loglevel=error", f"promptfoo@{PROMPTFOO_VERSION}"],
            check=True, stdin=subprocess.DEVNULL, timeout=900,
        )  # fmt: skip
        try:
            staging.rename(cache)
        except OSError:  # another run finished first: use its copy
            if not found.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return found


def run_eval(
    config: Path, output: Path, state_dir: Path, *, cache: Path = CACHE
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``promptfoo eval -c CONFIG -o OUTPUT --no-cache``: the process and the output JSON."""
    env = {name: value for name, value in os.environ.items() if name not in _KEY_VARS}
    env |= {
        "PROMPTFOO_DISABLE_TELEMETRY": "1",
        "PROMPTFOO_DISABLE_UPDATE": "1",
        "PROMPTFOO_DISABLE_SHARING": "1",
        "PROMPTFOO_CONFIG_DIR": str(state_dir),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
        "NO_COLOR": "1",
    }
    process = subprocess.run(
        [str(executable(cache)), "eval", "-c", str(config), "-o", str(output), "--no-cache",
         "--no-table", "--no-progress-bar"],
        capture_output=True, text=True, env=env, cwd=config.parent, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    results = json.loads(output.read_text(encoding="utf-8")) if output.exists() else {}
    return process, results


if __name__ == "__main__":
    try:
        print(install())
    except NpmMissing as exc:
        sys.exit(f"promptfoo_cli: {exc}")
