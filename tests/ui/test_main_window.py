"""The first slice end to end: type, see variables, run with Ctrl+Enter, find it stored."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt

from promptstudio.paths import database_path
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt, type_text


def test_first_launch_shows_the_sample_library(window) -> None:
    names = list(window.workspace.known.values())
    assert len(names) == 4
    assert window.workspace.prompt_id is not None
    assert window.editor.toPlainText().strip()  # the first sample is open
    assert window.windowTitle().startswith("PromptStudio — ")


def test_type_template_run_with_ctrl_enter_and_find_it_stored(
    window, qtbot, fake_llm, isolated_home
) -> None:
    fake_llm.script(Reply(text="Bonjour tout le monde", tokens_per_second=200))
    prompt_id = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        type_text(
            qtbot,
            window.editor,
            "system:\nYou translate.\nuser:\nTranslate {{ text }} into {{ lang }}.",
        )
    assert window.variables.names() == ["text", "lang"]
    type_text(qtbot, window.variables.field("text").editor, "hello everyone")
    type_text(qtbot, window.variables.field("lang").editor, "French")
    window.run_board.columns[0].set_target(fake_llm.base_url, "fake-model")

    with qtbot.waitSignal(window.workspace.runStored, timeout=10_000) as stored:
        qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    assert window.run_board.columns[0].output.toPlainText() == "Bonjour tout le monde"
    assert "TTFT" in window.run_board.columns[0].metrics.text()
    assert window.run_board.columns[0].status.text() == "Done"
    sent = fake_llm.requests[-1].json
    assert sent["model"] == "fake-model"
    assert sent["messages"] == [
        {"role": "system", "content": "You translate."},
        {"role": "user", "content": "Translate hello everyone into French."},
    ]
    # The editor kept the template: Ctrl+Enter did not insert a line.
    assert window.editor.toPlainText().endswith("into {{ lang }}.")

    db = sqlite3.connect(database_path(isolated_home))
    version = db.execute(
        "SELECT v.template, v.variables, v.kind FROM responses r JOIN runs ON runs.id = r.run_id "
        "JOIN versions v ON v.id = runs.version_id WHERE r.id = ?",
        (stored.args[0],),
    ).fetchone()
    db.close()
    assert version[0] == window.editor.toPlainText()
    assert '"French"' in version[1]
    assert version[2] == "run"
    rows = window.workspace.db.call(lambda conn: conn.execute(
        "SELECT text, status, model, base_url FROM responses WHERE id = ?", (stored.args[0],)
    ).fetchone())  # fmt: skip
    assert tuple(rows) == ("Bonjour tout le monde", "done", "fake-model", fake_llm.base_url)
    assert prompt_id == window.workspace.prompt_id


def test_variables_form_follows_the_template_and_keeps_values(window, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        type_text(qtbot, window.editor, "Hi {{ name }}, about {{ topic }}")
    assert window.variables.names() == ["name", "topic"]
    type_text(qtbot, window.variables.field("topic").editor, "billing")
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("Hi {{ name }}")
    assert window.variables.names() == ["name"]
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("{% for t in topics %}{{ t }}{% endfor %} {{ topic }}")
    assert window.variables.names() == ["topics", "topic"]  # the loop variable is not an input
    assert window.variables.field("topic").editor.toPlainText() == "billing"


def test_syntax_error_is_shown_at_line_and_column_then_cleared(window, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000) as analysed:
        window.editor.setPlainText("line one\nHello {{ name }\n")
    error = analysed.args[0]
    assert error is not None and error.line == 2
    assert window.editor.error_position == (error.line, error.column)
    assert "Line 2, column" in window.template_status.text()
    window.registry["edit.go_to_error"].trigger()
    assert window.editor.textCursor().blockNumber() == 1
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000) as analysed:
        window.editor.setPlainText("line one\nHello {{ name }}\n")
    assert analysed.args[0] is None
    assert window.editor.error_position is None
    assert "Template OK" in window.template_status.text()


def test_esc_stops_a_stream_and_keeps_the_partial_answer(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text=" ".join(f"w{i}" for i in range(400)), tokens_per_second=40))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Count slowly.")
    window.run_board.columns[0].set_target(fake_llm.base_url, "slow-model")
    with qtbot.waitSignal(window.workspace.runStored, timeout=10_000) as stored:
        window.registry["run.run"].trigger()
        output = window.run_board.columns[0].output
        qtbot.waitUntil(lambda: output.toPlainText().count("w") >= 3, timeout=5000)
        qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    partial = window.run_board.columns[0].output.toPlainText()
    assert partial.startswith("w0 w1")
    assert len(partial.split()) < 400
    assert window.run_board.columns[0].status.text() == "Stopped"
    assert "Stopped after" in window.run_board.columns[0].error.text()
    text, status = window.workspace.db.call(lambda conn: conn.execute(
        "SELECT text, status FROM responses WHERE id = ?", (stored.args[0],)
    ).fetchone())  # fmt: skip
    assert status == "cancelled"
    assert text == partial


def test_a_failing_server_is_explained_in_its_column(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(status=401, error_message="Invalid API key"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Hello")
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runStored, timeout=10_000):
        window.registry["run.run"].trigger()
    assert window.run_board.columns[0].status.text() == "Failed"
    assert "401" in window.run_board.columns[0].error.text()


def test_streamed_text_is_batched_not_written_per_token(
    window, qtbot, fake_llm, monkeypatch
) -> None:
    words = [f"t{i}" for i in range(600)]
    fake_llm.script(Reply(text=" ".join(words), tokens_per_second=1500))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "fast")
    writes: list[str] = []
    append = column.output.append_text

    def counted(text: str) -> None:  # each write of streamed text into the view
        writes.append(text)
        append(text)

    monkeypatch.setattr(column.output, "append_text", counted)
    with qtbot.waitSignal(window.workspace.runStored, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.output.toPlainText().split() == words
    assert 1 <= len(writes) < 100  # 600 deltas, a few dozen widget updates


def test_missing_model_is_refused_with_a_message(window, qtbot) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("Hello")
    window.run_board.columns[0].model.clear()
    window.registry["run.run"].trigger()
    assert "model name" in window.run_board.columns[0].error.text()
    assert window.run_board.columns[0].run_button.isEnabled()
