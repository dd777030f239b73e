"""One path from a column to a request: the GUI run, the GUI evaluation, ``promptstudio run``
and ``promptstudio eval`` send the same bodies and honour the same settings (issue 15)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from promptstudio.ui.main_window import MainWindow
from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt, serve_at_once

TEMPLATE = "What is {{ a }} + 2?"
SETTINGS = {"run.temperature": 0.3, "run.max_tokens": 77, "timeouts.first_token": 2}
HOLD_SECONDS = 12.0  # far beyond the settings' 2 s: a path that ignores them waits this long


def _answer(model: str, body: dict[str, Any]) -> Reply:
    if model == "slow-model":  # holds its first token: the first-token timeout shows
        return Reply(text="late", first_token_delay=HOLD_SECONDS)
    return Reply(text="3")


def _bodies(fake_llm: FakeLLM, since: int) -> list[str]:
    """The generation request bodies after the first ``since``, in a stable order."""
    sent = fake_llm.generation_requests()[since:]
    return sorted(json.dumps(request.json, sort_keys=True) for request in sent)


def _waits(fake_llm: FakeLLM, since: int) -> list[float]:
    """How long the slow model's requests after ``since`` were waited for (hang-up − sent)."""
    slow = [r for r in fake_llm.generation_requests()[since:] if r.json["model"] == "slow-model"]
    assert slow, "the slow model was not asked"
    hangups = list(fake_llm.hangups)
    return [min(h for h in hangups if h >= r.received_at) - r.received_at for r in slow]


def test_gui_run_gui_eval_cli_run_and_cli_eval_send_the_same_requests(
    qtbot, window: MainWindow, fake_llm: FakeLLM, tmp_path: Path, isolated_home: Path
) -> None:
    fake_llm.respond(_answer)
    window.workspace.settings.update(SETTINGS)  # settings.json, read by the CLI too
    serve_at_once(window)
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(TEMPLATE)
    window.variables.set_values({"a": "1"})
    board = window.run_board
    board.add_column()
    for column, model in zip(board.columns, ("fake-model", "slow-model"), strict=True):
        column.set_target(fake_llm.base_url, model)

    # 1. The GUI run.
    since = len(fake_llm.generation_requests())
    with qtbot.waitSignal(window.workspace.runFinished, timeout=30_000):
        window.workspace.run()
    gui_run = _bodies(fake_llm, since)
    gui_run_waits = _waits(fake_llm, since)

    # 2. The GUI evaluation, on one case with the same value.
    cases = tmp_path / "cases.csv"
    with cases.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["a"], ["1"]])
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        window.evaluate.cases.import_file(cases)
    since = len(fake_llm.generation_requests())
    with qtbot.waitSignal(window.eval_flow.evaluated, timeout=30_000):
        both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        qtbot.keyClick(window.editor, Qt.Key.Key_E, both)
        qtbot.keyRelease(window.editor, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier)
    gui_eval = _bodies(fake_llm, since)
    gui_eval_waits = _waits(fake_llm, since)

    # 3. ``promptstudio run`` and 4. ``promptstudio eval``, through the installed entry point,
    # in the same data dir (so the same settings.json).
    template = tmp_path / "sum.txt"
    template.write_text(TEMPLATE, encoding="utf-8")
    models = ["--base-url", fake_llm.base_url, "--model", "fake-model", "--model", "slow-model"]
    since = len(fake_llm.generation_requests())
    done = cli("run", str(template), "--var", "a=1", *models, home=isolated_home)
    assert done.returncode != 0 and "within 2 s" in done.stderr + done.stdout, done.stderr
    cli_run = _bodies(fake_llm, since)
    cli_run_waits = _waits(fake_llm, since)

    since = len(fake_llm.generation_requests())
    done = cli("eval", str(template), "--cases", str(cases), "--fresh", *models,
               home=isolated_home)  # fmt: skip
    assert "fake-model" in done.stdout + done.stderr, done.stderr
    cli_eval = _bodies(fake_llm, since)
    cli_eval_waits = _waits(fake_llm, since)

    sent = json.loads(gui_run[0])
    assert (sent["temperature"], sent.get("max_tokens") or sent.get("max_completion_tokens")) == (
        0.3, 77,
    )  # fmt: skip
    assert len(gui_run) == 2
    assert gui_run == gui_eval == cli_run == cli_eval
    for waits in (gui_run_waits, gui_eval_waits, cli_run_waits, cli_eval_waits):
        assert all(1.5 < wait < HOLD_SECONDS - 3 for wait in waits), waits
