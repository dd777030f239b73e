"""A case's promptfoo threshold, imported from a CSV ``__threshold`` column, survives the
Evaluate tab's edits (the table does not show it) and decides the case's verdict."""

from __future__ import annotations

from pathlib import Path

from promptstudio.storage import library
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM
from tests.ui.conftest import new_prompt
from tests.ui.evaluate.test_evaluate_in_window import TEMPLATE, arithmetic, evaluate


def test_an_imported_threshold_is_kept_through_edits_and_grades(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.respond(arithmetic)
    prompt_id = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(TEMPLATE)
    window.run_board.columns[0].set_target(fake_llm.base_url, "good")
    cases_file = tmp_path / "cases.csv"
    # 1 + 10 = 11: "contains 11" passes, "contains 99" fails; weights 1 and 1: score 0.5
    cases_file.write_text(
        "a,b,__threshold,__metadata:topic,__expected1,__expected2\n"
        "1,10,0.5,sums,contains: 11,contains: 99\n",
        encoding="utf-8",
    )
    table = window.evaluate.cases
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        table.import_file(cases_file)
    [stored] = window.workspace.db.call(library.list_cases, prompt_id)
    assert stored.threshold == 0.5
    model = table.model
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        model.setData(model.index(0, model.columnCount() - 1), "a note")  # saves every case
    [stored] = window.workspace.db.call(library.list_cases, prompt_id)
    assert stored.threshold == 0.5 and stored.vars == {"a": "1", "b": "10"}
    run = evaluate(qtbot, window)
    [cell] = run.cells.values()
    assert cell.passed is True  # the weighted score 0.5 reaches the case's threshold
