"""Rating an answer in History's Runs tab: stored with the response, marked in the tree,
and "Rated only" hides the rest."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from promptstudio.storage import Database, library
from promptstudio.storage.ratings import GOOD
from promptstudio.ui.history.history_pane import RUNS_TAB, HistoryPane
from promptstudio.ui.rating_bar import marks
from tests.ui.history.test_history_pane import (
    TIMEOUT,
    V1,
    answer,
    db,
    open_prompt,
    pane,
    seed,
    tasks,
)

__all__ = ["db", "pane", "tasks"]  # fixtures shared with test_history_pane


def test_rate_an_answer_in_history(qtbot: QtBot, db: Database, pane: HistoryPane) -> None:
    prompt_id, v1 = seed(db, [V1])
    answer(
        db,
        v1,
        ("gpt-4o-mini", "done", "It ships today.", 0.001, 900.0),
        ("llama-3", "done", "Dunno.", None, 300.0),
    )
    open_prompt(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.runsShown, timeout=TIMEOUT):
        pane.tabs.setCurrentIndex(RUNS_TAB)
    bar = pane.runs.rating
    assert bar.isEnabled() and not bar.good.isChecked()
    assert bar.good.accessibleName() == "Rate this answer good (Alt+Up)"
    bar.note.setFocus()
    qtbot.keyClicks(bar.note, "polite and right")
    qtbot.mouseClick(bar.good, Qt.MouseButton.LeftButton)
    runs = pane.runs_model
    run = runs.index(0, 0)

    def stored() -> list[tuple[int | None, str]]:
        [entry] = db.call(library.runs_for_version, v1)
        return [(r.rating, r.rating_note) for r in entry.responses]

    qtbot.waitUntil(lambda: stored()[0] == (GOOD, "polite and right"), timeout=TIMEOUT)
    assert stored()[1] == (None, "")
    qtbot.waitUntil(lambda: str(runs.index(0, 0, run).data()) == f"gpt-4o-mini  {marks()[0]}")
    assert "Note: polite and right" in str(runs.index(0, 0, run).data(Qt.ItemDataRole.ToolTipRole))
    pane.runs.rated_only.setChecked(True)
    assert not pane.runs_tree.isRowHidden(0, run) and pane.runs_tree.isRowHidden(1, run)
    pane.runs.rated_only.setChecked(False)
    assert not pane.runs_tree.isRowHidden(1, run)
    # the rating is there when the version is shown again
    pane.runs_tree.setCurrentIndex(runs.index(1, 0, run))
    assert not bar.good.isChecked() and bar.note.text() == ""
    pane.runs_tree.setCurrentIndex(runs.index(0, 0, run))
    assert bar.good.isChecked() and bar.note.text() == "polite and right"
