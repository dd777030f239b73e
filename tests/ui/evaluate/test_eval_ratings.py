"""👍 / 👎 on evaluation cells: stored with the cell, marked in the grid, and the judge's
agreement (Cohen's kappa, the counts) shown beside the judge prompt."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt

from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import DONE, CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.storage.ratings import BAD, GOOD, Rating, eval_ratings
from promptstudio.ui.evaluate.eval_pane import EvalPane
from promptstudio.ui.main_window import MainWindow
from promptstudio.ui.rating_bar import marks
from tests.fake_llm import FakeLLM
from tests.ui.evaluate.test_evaluate_in_window import evaluate, set_up


def _judged_run() -> EvalRun:
    """Four answers the judge graded pass, pass, fail, fail; stored (it has an id)."""
    run = EvalRun(
        columns=(EvalColumn("a", "small", "small", "", {}),),
        cases=tuple(EvalCase(f"c{n}", n, {"n": n}) for n in range(4)),
        id=7,
    )
    for n, judged in enumerate((True, True, False, False)):
        grade = GradeResult(judged, float(judged), "judge says", "llm-rubric")
        run.cells[(f"c{n}", "a")] = CellResult(f"c{n}", "a", DONE, text=f"answer {n}",
                                               grades=(grade,))  # fmt: skip
    return run


def test_rating_cells_shows_marks_and_the_judges_kappa(qtbot) -> None:
    pane = EvalPane()
    qtbot.addWidget(pane)
    pane.show()
    results = pane.results
    label = pane.judge_agreement
    unjudged = _judged_run()
    unjudged.cells = {key: replace(cell, grades=()) for key, cell in unjudged.cells.items()}
    results.set_run(unjudged)
    assert label.isHidden() and label.full == ""  # nothing judged: nothing to agree on
    run = _judged_run()
    results.set_run(run)
    assert label.isVisible() and label.text() == "judge κ —"
    assert "rate answers the judge graded" in label.full
    bar = results.rating_bar
    assert bar.isEnabled() and bar.good.accessibleName().startswith("Rate this")
    rated: list[tuple[str, str, Rating]] = []
    results.cellRated.connect(lambda case, column, rating: rated.append((case, column, rating)))
    qtbot.mouseClick(bar.good, Qt.MouseButton.LeftButton)  # the first cell is selected
    assert rated == [("c0", "a", Rating(GOOD))]
    # The owner stores it and shows what was stored; the rest come the same way.
    for case, column, rating in [
        rated[0], ("c1", "a", Rating(BAD)), ("c2", "a", Rating(BAD)), ("c3", "a", Rating(GOOD))
    ]:  # fmt: skip
        results.set_rating(case, column, rating)
    grid = results.grid_model
    good, bad = marks()  # 👍 👎, or +1 −1 where no font draws them
    assert grid.index(0, 0).data().endswith(good) and grid.index(1, 0).data().endswith(bad)
    # you: pass, fail, fail, pass; judge: pass, pass, fail, fail -> p_o = 1/2, p_e = 1/2
    assert label.text() == "judge κ 0.00 · 4 rated"
    assert label.full.startswith("Judge vs you: κ = 0.00 over 4 answers")
    assert "both pass 1 · both fail 1 · judge pass, you fail 1 · judge fail, you pass 1" in (
        label.toolTip()
    )
    # the keyboard: Alt+Down on the grid rates the selected cell bad (toggling 👍 off)
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)
    results.grid.setFocus()
    results.grid.setCurrentIndex(grid.index(3, 0))
    qtbot.keyClick(results.grid, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert rated[-1] == ("c3", "a", Rating(BAD))


def test_a_rating_in_the_window_is_stored_and_the_dialog_shows_agreement(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    run = evaluate(qtbot, window)
    assert run.id is not None
    results = window.evaluate.results
    results.grid.setCurrentIndex(results.grid_model.index(1, 0))
    bar = results.rating_bar
    bar.note.setFocus()
    qtbot.keyClicks(bar.note, "right, but terse")
    qtbot.mouseClick(bar.bad, Qt.MouseButton.LeftButton)
    db = window.workspace.db

    eval_id = run.id

    def stored() -> dict[tuple[str, str], Rating]:
        return db.call(eval_ratings, eval_id)

    qtbot.waitUntil(lambda: len(stored()) == 1, timeout=5000)
    [(key, rating)] = stored().items()
    assert rating == Rating(BAD, "right, but terse")
    assert key == (run.cases[1].key, run.columns[0].key)
    qtbot.waitUntil(lambda: results.grid_model.index(1, 0).data().endswith(marks()[1]))
    dialog = window.eval_flow.open_judge_prompt()
    assert dialog.agreement.isHidden()  # no llm-rubric here: nothing to agree on
    dialog.close()
