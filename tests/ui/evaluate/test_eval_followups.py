"""Evaluate-tab follow-ups of issue 14: a stop names what it cancelled; imported cases go to
the prompt they were imported for, even while that prompt's cases are still loading."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt

from promptstudio.evals import results
from promptstudio.storage import library
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt
from tests.ui.evaluate.test_evaluate_in_window import set_up


def test_a_stopped_evaluation_names_what_it_cancelled(
    qtbot, window: MainWindow, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    """Like the CLI: "N of T answers finished, M cancelled (K while running, J not started)"."""
    set_up(qtbot, window, fake_llm, tmp_path)
    fake_llm.respond(None)
    fake_llm.script(Reply(text="slow " * 400, tokens_per_second=40))
    with qtbot.waitSignal(window.eval_flow.evaluated, timeout=30_000) as done:
        window.registry["eval.run"].trigger()
        qtbot.waitUntil(lambda: len(fake_llm.chat_requests()) > 0, timeout=5000)
        qtbot.keyClick(window.evaluate.stop_button, Qt.Key.Key_Space)
    stopped = done.args[0]
    assert stopped.status == results.CANCELLED
    counts = results.stop_counts(stopped)
    assert counts.cancelled_running > 0 and counts.not_started > 0
    assert counts.total == 30 and counts.cancelled == 30 - counts.finished
    line = (
        f"Stopped: {counts.finished} of 30 answers finished, {counts.cancelled} cancelled "
        f"({counts.cancelled_running} while running, {counts.not_started} not started)."
    )
    assert window.evaluate.status.text().startswith(line)
    assert window.statusBar().currentMessage().startswith(line)


def test_cases_imported_while_a_prompt_loads_are_saved_under_that_prompt(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    """Import right after opening a prompt, its cases still loading (held back here): the
    file's cases become that prompt's, and the previous prompt keeps its own."""
    flow, table, db = window.eval_flow, window.evaluate.cases, window.workspace.db
    first = new_prompt(qtbot, window)
    with qtbot.waitSignal(flow.casesSaved, timeout=5000):
        table.import_file(_csv(tmp_path / "first.csv", "first"))

    gate, list_cases = threading.Event(), library.list_cases

    def held(conn, prompt_id: int):
        if prompt_id != first:  # the new prompt's load waits until the import is done
            gate.wait(10)
        return list_cases(conn, prompt_id)

    monkeypatch.setattr(library, "list_cases", held)
    second = new_prompt(qtbot, window)
    table.import_file(_csv(tmp_path / "second.csv", "second"))
    qtbot.waitUntil(lambda: not flow._save_timer.isActive())  # a save due has gone (wrong)
    with qtbot.waitSignal(flow.casesSaved, timeout=5000) as saved:
        gate.set()
    assert saved.args == [second]
    monkeypatch.setattr(library, "list_cases", list_cases)
    assert _whos(db, second) == ["second"] * 3
    assert _whos(db, first) == ["first"] * 3
    assert [case["vars"]["who"] for case in table.model.cases()] == ["second"] * 3
    assert table.isEnabled()


def _csv(path: Path, who: str) -> Path:
    path.write_text("who,n\n" + "".join(f"{who},{n}\n" for n in range(3)), encoding="utf-8")
    return path


def _whos(db, prompt_id: int) -> list[str]:
    return [row.vars["who"] for row in db.call(library.list_cases, prompt_id)]
