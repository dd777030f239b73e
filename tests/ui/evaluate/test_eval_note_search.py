"""A note on an evaluation cell, found by the library search, opens that evaluation in
the Evaluate tab (not the newest one), from the search box by keyboard alone."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from promptstudio.storage.ratings import BAD, Rating, rate_eval_cell
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM
from tests.ui.conftest import new_prompt
from tests.ui.evaluate.test_evaluate_in_window import evaluate, set_up


def test_enter_on_a_cell_note_hit_shows_its_evaluation(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    first = evaluate(qtbot, window)
    second = evaluate(qtbot, window)
    assert first.id is not None and second.id is not None and second.id > first.id
    case, column = first.cases[2].key, first.columns[2].key
    db = window.workspace.db
    db.call(rate_eval_cell, first.id, case, column, Rating(BAD, "an offbyone slip again"))
    window.bottom_tabs.setCurrentWidget(window.history)
    box = window.library.search
    box.setFocus()
    with qtbot.waitSignal(window.library.results.hitsShown, timeout=5000):
        qtbot.keyClicks(box, "offbyone")
    with qtbot.waitSignal(window.library.evaluationRequested, timeout=2000):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    flow = window.eval_flow
    qtbot.waitUntil(lambda: flow.shown is not None and flow.shown.id == first.id, timeout=5000)
    assert window.bottom_tabs.currentWidget() is window.evaluate
    assert window.evaluate.results.grid_model.run is flow.shown
    assert flow.baseline is None or flow.baseline.id != first.id
    # From another prompt: the noted evaluation is shown once its prompt has opened.
    new_prompt(qtbot, window)
    qtbot.waitUntil(lambda: flow.shown is None, timeout=5000)
    box.clear()
    box.setFocus()
    with qtbot.waitSignal(window.library.results.hitsShown, timeout=5000):
        qtbot.keyClicks(box, "offbyone")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: flow.shown is not None and flow.shown.id == first.id, timeout=5000)
    assert window.evaluate.results.grid_model.run is flow.shown
