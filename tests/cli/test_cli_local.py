"""``promptstudio local setup|start|stop|status`` through the installed entry point, with
the stand-in packages of tests/stand_in on PYTHONPATH (no build, no real model)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.local.server import pid_alive, read_state
from tests.cli.test_cli import PROMPTSTUDIO, cli
from tests.stand_in import PATH as STAND_IN

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(STAND_IN))


@pytest.fixture
def stopped_after(isolated_home: Path) -> Iterator[None]:
    yield
    cli("local", "stop", home=isolated_home)


def test_status_before_setup_says_how(isolated_home: Path, monkeypatch) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    done = cli("local", "status", home=isolated_home)
    assert done.returncode == 0, done.stderr
    assert "Set up: no (`promptstudio local setup` installs it)" in done.stdout
    assert "not running" in done.stdout


def test_setup_names_what_is_missing_before_starting(isolated_home: Path, monkeypatch) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", str(isolated_home / "no-tools-here"))
    done = cli("local", "setup", home=isolated_home)
    assert done.returncode == 1
    assert "cannot set up the local model" in done.stderr
    assert "C/C++ compiler is needed" in done.stderr and "build-essential" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.usefixtures("stand_in", "stopped_after")
def test_detached_start_run_and_stop(isolated_home: Path, tmp_path: Path) -> None:
    started = cli("local", "start", "--detach", "--json", home=isolated_home)
    assert started.returncode == 0, started.stderr
    data = json.loads(started.stdout)
    assert data["models"] == ["gemma-3-270m"] and data["detached"] is True
    pid = data["pid"]
    assert pid_alive(pid)  # the command has ended; the server runs on
    status = json.loads(cli("local", "status", "--json", home=isolated_home).stdout)
    assert status["running"] and status["base_url"] == data["base_url"]
    providers = cli("providers", "list", "--json", home=isolated_home)
    local = [p for p in json.loads(providers.stdout) if p["id"] == "local"]
    assert local and local[0]["base_url"] == data["base_url"]
    assert local[0]["name"] == "Local (Gemma 3 270M)"
    prompt = tmp_path / "hi.prompt"
    prompt.write_text("user:\nSay hello.\n", encoding="utf-8")
    ran = cli("run", str(prompt), "--profile", "local", "--model", "gemma-3-270m",
              home=isolated_home)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "Hello from the stand-in llama.cpp server." in ran.stdout
    again = cli("local", "start", home=isolated_home)
    assert again.returncode == 1 and "runs already at" in again.stderr
    stopped = cli("local", "stop", home=isolated_home)
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    assert not pid_alive(pid) and read_state(isolated_home) is None


@pytest.mark.usefixtures("stand_in", "stopped_after")
def test_foreground_start_serves_until_interrupted(isolated_home: Path) -> None:
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(isolated_home)}
    process = subprocess.Popen([*PROMPTSTUDIO, "local", "start"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert "until Ctrl+C" in lines[1], (lines, process.stderr)
        state = read_state(isolated_home)
        assert state is not None and pid_alive(state.pid)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Stopped the local server." in out
    assert not pid_alive(state.pid) and read_state(isolated_home) is None


@pytest.mark.usefixtures("stand_in", "stopped_after")
def test_another_gguf_file_is_served_and_kept_as_the_choice(isolated_home: Path, tmp_path) -> None:
    mine = tmp_path / "my-qwen.gguf"
    mine.write_bytes(b"GGUF stand-in")
    started = cli("local", "start", "--detach", "--model", str(mine), "--json",
                  home=isolated_home)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["models"] == ["my-qwen"]
    args = json.loads(Path(f"{mine}.args.json").read_text())
    assert args["chat_format"] is None  # the file's own template, not Gemma's
    cli("local", "stop", home=isolated_home)
    status = json.loads(cli("local", "status", "--json", home=isolated_home).stdout)
    assert status["model_file"] == str(mine)
    back = cli("local", "start", "--detach", "--gemma", "--json", home=isolated_home)
    assert json.loads(back.stdout)["models"] == ["gemma-3-270m"]  # Gemma again
    status = json.loads(cli("local", "status", "--json", home=isolated_home).stdout)
    assert status["model_file"] is None and status["model"] == "Gemma 3 270M"


def test_a_missing_model_file_is_a_clear_message(isolated_home: Path, tmp_path) -> None:
    done = cli("local", "start", "--model", str(tmp_path / "nope.gguf"), home=isolated_home)
    assert done.returncode == 1
    assert done.stderr.strip() == f"promptstudio: There is no model file at {tmp_path}/nope.gguf."
