"""An empty template (or one that renders to nothing) is refused in the window, not sent."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from promptstudio.evals import results
from promptstudio.storage import library
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt


@pytest.mark.parametrize("template", ["", "  \n\t\n", "{% if false %}Hello{% endif %}"])
def test_a_run_with_nothing_to_send_is_refused(window, qtbot, fake_llm, template) -> None:
    prompt_id = new_prompt(qtbot, window)
    fake_llm.script(Reply(text="should never be asked"))
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(template or " ")
        window.editor.setPlainText(template)
    with qtbot.waitSignal(window.workspace.statusMessage, timeout=5000) as said:
        qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert said.args[0] == "Nothing to send: the template renders to no messages."
    assert column.status.text() == "Not sent"
    assert "Nothing to send" in column.error.text() and column.error.isVisibleTo(column)
    assert fake_llm.chat_requests() == []
    versions = window.workspace.db.call(library.list_versions, prompt_id)
    assert all(window.workspace.db.call(library.list_runs, v.id) == [] for v in versions)


def _with_cases(qtbot, window, fake_llm, template: str) -> int:
    prompt_id = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("user:\n{{ word }}")
    model = window.evaluate.cases.model
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        model.add_case({"word": "hello"})
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(template)
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    fake_llm.script(Reply(text="should never be asked"))
    return prompt_id


def test_an_evaluation_of_an_empty_template_is_refused(window, qtbot, fake_llm) -> None:
    prompt_id = _with_cases(qtbot, window, fake_llm, "   \n")
    with qtbot.waitSignal(window.tasks.failed, timeout=5000) as failed:
        window.registry["eval.run"].trigger()
    assert "Nothing to send: the template is empty." in str(failed.args[0])
    assert fake_llm.chat_requests() == []
    assert window.workspace.db.call(library.list_eval_runs, prompt_id) == []


def test_cases_a_template_renders_nothing_for_fail_unsent(window, qtbot, fake_llm) -> None:
    _with_cases(qtbot, window, fake_llm, "{% if word == 'never' %}{{ word }}{% endif %}")
    with qtbot.waitSignal(window.eval_flow.evaluated, timeout=10_000) as done:
        window.registry["eval.run"].trigger()
    run = done.args[0]
    [cell] = run.cells.values()
    assert cell.status == results.FAILED
    assert "nothing to send: the template renders to no messages" in (cell.error or "")
    assert fake_llm.chat_requests() == []
