"""Ctrl+C on a big evaluation stops it at once and says what was cancelled.

A 30,000-case file on the fake server, through the installed entry point: SIGINT once
some answers are in. The bound on the exit is a hang guard, not the speed (a stop takes
well under a second; the benchmark of that belongs elsewhere).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from promptstudio.storage import Database, library
from tests.cli.test_cli import PROMPTSTUDIO
from tests.fake_llm import FakeLLM, Reply

CASES = 30_000
HANG_GUARD_SECONDS = 10


def _wait_for(condition, timeout: float) -> None:
    """Poll ``condition`` (a subprocess's progress seen from outside) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.02)


@pytest.mark.parametrize("output", ["text", "json", "csv"])
def test_ctrl_c_on_thirty_thousand_cases_stops_and_counts_what_was_cancelled(
    output: str, tmp_path: Path, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    prompt = tmp_path / "echo.prompt"
    prompt.write_text("user:\nSay {{ n }}\n", encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text("n\n" + "".join(f"{n}\n" for n in range(CASES)), encoding="utf-8")
    fake_llm.script(Reply(text="ok"))
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(isolated_home),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}  # fmt: skip
    flags = {"text": [], "json": ["--json"], "csv": ["--csv"]}[output]
    process = subprocess.Popen(
        [*PROMPTSTUDIO, "eval", str(prompt), "--cases", str(cases), "--base-url",
         fake_llm.base_url, "--model", "m", *flags],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: len(fake_llm.chat_requests()) >= 20, timeout=60)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    stopped = re.search(
        r"stopped: ([\d,]+) of 30,000 answers finished, ([\d,]+) cancelled "
        r"\(([\d,]+) while running, ([\d,]+) not started\)",
        err,
    )
    assert stopped is not None, err
    finished, cancelled, running, not_started = (
        int(group.replace(",", "")) for group in stopped.groups()
    )
    assert finished >= 19 and finished + cancelled == CASES
    assert running + not_started == cancelled and not_started > CASES - 1000
    if output == "text":
        assert stopped.group(0) in out
    elif output == "json":
        answers = json.loads(out)["answers"]
        assert answers == {"total": CASES, "finished": finished, "cancelled_running": running,
                           "not_started": not_started}  # fmt: skip
    else:
        assert len(out.splitlines()) == 1 + finished + running  # a row per cell that ran
    with Database(isolated_home / "library.sqlite3") as db:
        [prompt_row] = db.call(library.list_prompts)
        [stored] = db.call(library.list_eval_runs, prompt_row.id)
        assert stored.status == "cancelled"
