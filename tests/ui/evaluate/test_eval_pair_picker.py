"""Any two columns of the shown evaluation, picked under the grid, compared case by case."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from promptstudio.evals.compare import compare_pair
from promptstudio.ui.evaluate.eval_results import EvalResultsView, comparison_lines
from promptstudio.ui.evaluate.pair_picker import PROMPT, SAME
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM
from tests.ui.evaluate.test_eval_numbers import repeated_run
from tests.ui.evaluate.test_evaluate_in_window import evaluate, set_up


def test_the_picker_lists_the_runs_columns_and_needs_two_different_ones(qtbot) -> None:
    view = EvalResultsView()
    qtbot.addWidget(view)
    picker = view.pair_picker
    assert picker.new.accessibleName() == "Column to compare"
    assert picker.old.accessibleName() == "Column to compare it against"
    assert picker.result.accessibleName() == "Paired comparison of the chosen columns"
    buddies = {label.text(): label.buddy() for label in picker.findChildren(QLabel)}
    assert buddies["Compare co&lumn"] is picker.new and buddies["a&gainst"] is picker.old
    view.set_run(repeated_run({"1": [True]}))
    assert not picker.isVisibleTo(view)  # one column: nothing to pair
    chosen: list[tuple[str, str]] = []
    picker.pairChosen.connect(lambda new, old: chosen.append((new, old)))
    picker.choose("m", "m")
    assert picker.result.text() in (SAME, PROMPT) and chosen == []


def test_a_pair_chosen_by_keyboard_shows_its_paired_test(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    run = evaluate(qtbot, window)
    picker = window.evaluate.results.pair_picker
    labels = [picker.new.itemText(i) for i in range(picker.new.count())]
    assert labels == ["good", "okay", "bad"]
    assert (picker.new.currentText(), picker.old.currentText()) == ("okay", "good")
    assert picker.result.text() == PROMPT
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is picker.new, timeout=3000)
    qtbot.keyClick(picker.new, Qt.Key.Key_Down)  # okay -> bad
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is picker.old, timeout=3000)
    qtbot.keyClick(picker.old, Qt.Key.Key_Down)  # good -> okay
    keys = {c.label: c.key for c in run.columns}
    assert picker.pair() == (keys["bad"], keys["okay"])
    expected = "\n".join(comparison_lines(compare_pair(run, keys["bad"], keys["okay"])))
    qtbot.waitUntil(lambda: picker.result.text().startswith("bad vs okay on v"), timeout=5000)
    # bad fails 3 cases okay passes, and passes none okay fails: p = 0.25
    assert "p = 0.25" in picker.result.text()
    assert picker.result.text().split(";")[0] == expected.split(";")[0]
