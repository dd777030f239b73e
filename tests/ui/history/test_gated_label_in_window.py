"""A gated label in the window: History's "Set label" refuses a version below the gate with
a message giving the numbers (through ui.messages), then moves it once the version passes."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMessageBox

from promptstudio.evals.gates import move_label
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import CellResult, EvalColumn, EvalRun
from promptstudio.evals.store import cases_from_rows, save_run
from promptstudio.storage import Database, library
from promptstudio.storage.rows import LabelGate
from tests.ui.conftest import new_prompt

TIMEOUT = 5000


def _evaluate(db: Database, prompt_id: int, version_id: int, passes: int) -> None:
    cases = cases_from_rows(db.call(library.list_cases, prompt_id))
    run = EvalRun((EvalColumn("c", "gpt-test", "gpt-test", "http://127.0.0.1:1/v1"),), cases)
    for n, case in enumerate(cases):
        grade = GradeResult(n < passes, float(n < passes), "", "equals")
        run.put(CellResult(case.key, "c", "done", text="x", grades=(grade,)))
    db.call(save_run, version_id, run)


def _set_label(window, qtbot, version_id: int, name: str) -> None:
    history = window.history
    qtbot.waitUntil(lambda: history.model.row_of(version_id) >= 0, timeout=TIMEOUT)
    if [v.id for v in history.selected_versions()] != [version_id]:
        with qtbot.waitSignal(history.diffShown, timeout=TIMEOUT):
            history.select_versions(version_id)
    history.label_action.trigger()
    dialog = history.findChild(QInputDialog, "labelDialog")
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue(name)
    with qtbot.waitSignal(window.tasks.finished, timeout=TIMEOUT,
                          check_params_cb=lambda task: task == "history.label"):  # fmt: skip
        dialog.accept()


def test_a_gated_label_is_refused_in_history_with_the_numbers(window, qtbot) -> None:
    prompt_id = new_prompt(qtbot, window)
    db = window.workspace.db
    v1 = db.call(library.save_version, prompt_id, "Answer {{ q }}", {}, {}).id
    v2 = db.call(library.save_version, prompt_id, "Answer {{ q }} in a word", {}, {}).id
    db.call(library.replace_cases, prompt_id, [{"vars": {"q": str(n)}} for n in range(10)])
    _evaluate(db, prompt_id, v1, 10)
    _evaluate(db, prompt_id, v2, 6)
    db.call(move_label, prompt_id, "production", v1, gate=LabelGate(0.9))
    window.registry["view.history"].trigger()
    window.history.refresh()

    _set_label(window, qtbot, v2, "production")
    qtbot.waitUntil(lambda: _message(window) is not None, timeout=TIMEOUT)
    box = _message(window)
    assert box is not None and box.windowTitle() == "Label not moved"
    assert 'Label "production" stays on v1: v2 does not meet its gate' in box.text()
    assert "gpt-test: 6/10 passed (60%" in box.text() and "60% is below 90%" in box.text()
    box.close()
    assert db.call(library.get_label, prompt_id, "production").version_id == v1

    _evaluate(db, prompt_id, v2, 9)  # v2 evaluated again: 9/10 meets 90%
    _set_label(window, qtbot, v2, "production")
    assert db.call(library.get_label, prompt_id, "production").version_id == v2
    assert _message(window) is None


def _message(window) -> QMessageBox | None:
    boxes = [box for box in window.findChildren(QMessageBox, "errorMessageBox") if box.isVisible()]
    return boxes[0] if boxes else None
