"""The run board: several columns streaming at once, each stopped and stored on its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QTextBrowser

from promptstudio.providers import Endpoint
from promptstudio.runs import RunTarget, TargetResult
from promptstudio.runs.columns import sample_key
from promptstudio.storage import library
from promptstudio.ui.board.run_board import ColumnStrip, RunBoard, compare_answers, compare_previous
from promptstudio.ui.board.run_column import COLUMN_MIME, ColumnConfig
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt, serve_at_once


def _four_columns(window, fake_llm) -> list:
    serve_at_once(window)
    board = window.run_board
    board.columns[0].set_target(fake_llm.base_url, "alpha")
    for model in ("beta", "gamma", "delta"):
        column = board.add_column()
        column.set_target(fake_llm.base_url, model)
    return board.columns


def test_four_columns_stream_at_once_and_one_429_does_not_stop_the_others(
    window, qtbot, fake_llm
) -> None:
    answers = {
        m: f"answer from {m}: " + " ".join(["word"] * 30) for m in ("alpha", "beta", "delta")
    }
    for model, text in answers.items():  # ~1 s each, so the streams overlap by construction
        fake_llm.script(Reply(text=text, tokens_per_second=30), model=model)
    fake_llm.script(Reply(status=429, error_message="slow down", headers={"retry-after": "30"}),
                    model="gamma")  # fmt: skip
    window.settings.update({"timeouts.max_retries": 0})
    new_prompt(qtbot, window)
    window.editor.setPlainText("Say hello")
    columns = _four_columns(window, fake_llm)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000) as finished:
        window.registry["run.run"].trigger()
        healthy = [c for c in columns if c.model.text() != "gamma"]
        qtbot.waitUntil(
            lambda: all(c.status.text() == "Streaming…" for c in healthy), timeout=10_000
        )
    by_model = {c.model.text(): c for c in columns}
    for model in ("alpha", "beta", "delta"):
        assert by_model[model].output.toPlainText() == answers[model]
        assert by_model[model].status.text() == "Done"
        assert "TTFT" in by_model[model].metrics.text()
    assert by_model["gamma"].status.text() == "Failed"
    assert "(429)" in by_model["gamma"].error.text()
    assert "Fastest:" in window.run_board.summary.text()
    responses = window.workspace.db.call(library.list_responses, finished.args[0])
    assert sorted((r.model, r.status) for r in responses) == [
        ("alpha", "done"), ("beta", "done"), ("delta", "done"), ("gamma", "failed"),
    ]  # fmt: skip


def test_stop_one_column_while_the_others_finish(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text=" ".join(["slow"] * 300), tokens_per_second=30), model="alpha")
    fake_llm.script(Reply(text="quick answer", tokens_per_second=50), model="beta")
    serve_at_once(window)
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    board = window.run_board
    board.columns[0].set_target(fake_llm.base_url, "alpha")
    board.add_column().set_target(fake_llm.base_url, "beta")
    slow, quick = board.columns
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000):
        window.registry["run.run"].trigger()
        qtbot.waitUntil(lambda: "slow" in slow.output.toPlainText(), timeout=5000)
        slow.stop_button.click()
    assert slow.status.text() == "Stopped"
    assert quick.status.text() == "Done" and quick.output.toPlainText() == "quick answer"
    assert 0 < len(slow.output.toPlainText().split()) < 300


def test_stop_all_with_esc(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text=" ".join(["tok"] * 400), tokens_per_second=40))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    columns = _four_columns(window, fake_llm)[:2]
    for extra in window.run_board.columns[2:]:
        window.run_board.remove_column(extra.column_id)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000):
        window.registry["run.run"].trigger()
        qtbot.waitUntil(lambda: all("tok" in c.output.toPlainText() for c in columns), timeout=5000)
        window.registry["run.stop"].trigger()
    assert [c.status.text() for c in columns] == ["Stopped", "Stopped"]
    assert not window.workspace.running


def test_run_one_column_only(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="only me"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    first, second = window.run_board.columns[0], window.run_board.add_column()
    first.set_target(fake_llm.base_url, "one")
    second.set_target(fake_llm.base_url, "two")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000) as finished:
        second.run_button.click()
    assert second.output.toPlainText() == "only me"
    assert first.output.toPlainText() == ""
    responses = window.workspace.db.call(library.list_responses, finished.args[0])
    assert [r.model for r in responses] == ["two"]


def test_add_duplicate_remove_and_the_layout_is_restored_with_the_version(window, qtbot) -> None:
    prompt_id = new_prompt(qtbot, window)
    board = window.run_board
    board.columns[0].set_config(ColumnConfig(base_url="http://127.0.0.1:9/v1", model="first"))
    copy = board.duplicate_column(board.columns[0].column_id)
    assert copy is not None and copy.model.text() == "first"
    copy.model.setText("second")
    copy.temperature.setValue(0.4)
    board.add_column().model.setText("third")
    board.remove_column(board.columns[2].column_id)
    assert [c.model.text() for c in board.columns] == ["first", "second"]
    saved = window.tasks.finished
    with qtbot.waitSignal(saved, timeout=3000, check_params_cb=lambda name: name == "save"):
        window.registry["prompt.save"].trigger()

    new_prompt(qtbot, window)  # a new prompt starts with the board as it is...
    assert [c.model.text() for c in board.columns] == ["first", "second"]
    board.remove_column(board.columns[1].column_id)  # ...and may change it
    board.columns[0].model.setText("other")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=3000):
        window.workspace.open_prompt(prompt_id)
    assert [c.model.text() for c in board.columns] == ["first", "second"]
    assert board.columns[1].config().params.temperature == 0.4
    assert not window.workspace.dirty


def test_the_last_column_cannot_be_removed(window) -> None:
    board = window.run_board
    assert len(board.columns) >= 1
    while len(board.columns) > 1:
        board.remove_column(board.columns[-1].column_id)
    board.remove_column(board.columns[0].column_id)
    assert len(board.columns) == 1
    assert not board.columns[0].remove_button.isEnabled()


def test_repeat_n_samples_shows_a_stack_and_a_consistency_figure(window, qtbot, fake_llm) -> None:
    for text in ("Positive.", "positive", "negative", "Positive", "positive"):
        fake_llm.script(Reply(text=text), times=1)
    new_prompt(qtbot, window)
    window.editor.setPlainText("Classify: great service")
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    window.run_board.repeats.setValue(5)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000) as finished:
        window.registry["run.run"].trigger()
    column = window.run_board.columns[0]
    assert column.samples_bar.isVisible() and column.samples_bar.count() == 5
    assert column.consistency.text() == "2 distinct answers of 5 · 80% agree"
    texts = set()
    for index in range(5):
        column.samples_bar.setCurrentIndex(index)
        texts.add(column.output.toPlainText())
        assert column.samples_bar.tabText(index).endswith("✓")
    assert texts == {"Positive.", "positive", "negative", "Positive"}
    stored = window.workspace.db.call(library.list_responses, finished.args[0])
    assert len(stored) == 5


def test_each_column_runs_its_own_samples_over_its_own_api(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="ok"))
    serve_at_once(window)
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    board = window.run_board
    board.columns[0].set_target(fake_llm.base_url, "a")
    board.add_column().set_target(fake_llm.base_url, "b")
    board.repeats.setValue(2)  # the board's box sets every column
    assert [column.config().samples for column in board.columns] == [2, 2]
    stored = board.columns[1].config()
    board.set_configs([board.columns[0].config(), replace(stored, api="responses", samples=3)])
    first, second = board.columns
    assert board.repeats.value() == 3 and "× 3" in second.title.text()
    assert second.api_choice.currentData() == "responses"
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000):
        window.registry["run.run"].trigger()
    assert [r.json["model"] for r in fake_llm.chat_requests()] == ["a", "a"]
    assert [r.json["model"] for r in fake_llm.responses_requests()] == ["b"] * 3
    assert (first.samples_bar.count(), second.samples_bar.count()) == (2, 3)
    again = ColumnConfig.from_dict(second.config().to_dict())
    assert (again.api, again.samples) == ("responses", 3)


def test_json_view_pretty_prints_and_reports_invalid_json(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text='```json\n{"name": "Ada", "tags": [1, 2]}\n```'), times=1)
    fake_llm.script(Reply(text='{"name": "Ada", "tags": [1, 2'), times=1)
    new_prompt(qtbot, window)
    window.editor.setPlainText("Extract")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    column.view_mode.setCurrentText("JSON")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert (
        column.rendered.toPlainText() == '{\n  "name": "Ada",\n  "tags": [\n    1,\n    2\n  ]\n}'
    )
    assert column.json_status.text() == "Valid JSON"
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.json_status.text().startswith("Not valid JSON: line 1, column")
    column.view_mode.setCurrentText("Text")
    assert column.views.currentWidget() is column.output


def test_markdown_view_renders_and_copy_takes_the_answer(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="# Title\n\n- **bold** item\n- second"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Write markdown")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    column.view_mode.setCurrentText("Markdown")
    assert column.views.currentWidget() is column.rendered
    assert "<h1" in column.rendered.toHtml() and "font-weight" in column.rendered.toHtml()
    assert column.rendered.toPlainText().startswith("Title")
    column.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == "# Title\n\n- **bold** item\n- second"
    column.wrap.setChecked(False)
    assert column.output.lineWrapMode() == column.output.LineWrapMode.NoWrap


def test_move_and_maximise_columns(window) -> None:
    board = window.run_board
    board.columns[0].model.setText("a")
    board.add_column().model.setText("b")
    board.add_column().model.setText("c")
    board.move_column(board.columns[0].column_id, 1)
    assert [c.model.text() for c in board.columns] == ["b", "a", "c"]
    board.move_column(board.columns[2].column_id, 1)  # already last: stays
    assert [c.model.text() for c in board.columns] == ["b", "a", "c"]
    middle = board.columns[1]
    board.toggle_maximised(middle.column_id)
    assert [c.isHidden() for c in board.columns] == [True, False, True]
    board.toggle_maximised(middle.column_id)
    assert not any(c.isHidden() for c in board.columns)
    board.toggle_maximised(middle.column_id)
    board.remove_column(middle.column_id)  # removing the maximised one shows the rest
    assert not any(c.isHidden() for c in board.columns) and board.maximised is None


def test_preview_shows_the_exact_messages_per_column(window, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("system:\nBe terse.\nuser:\nHello {{ name }} <b>&")
    window.variables.set_value("name", "Ada")
    board = window.run_board
    board.columns[0].model.setText("first")
    second = board.add_column()
    second.model.setText("second")
    second.max_tokens.setValue(300)
    dialog = window.workspace.preview(second.column_id)
    assert dialog is not None
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["first", "second"]
    assert dialog.tabs.currentIndex() == 1
    page = dialog.tabs.currentWidget()
    text = page.findChild(QTextBrowser, "previewMessages").toPlainText()
    assert text.splitlines() == ["system", "Be terse.", "user", "Hello Ada <b>&"]
    summary = page.findChild(QLabel, "previewSummary").text()
    assert summary.startswith("2 messages · about ") and "up to 300 output tokens" in summary
    dialog.close()


def test_preview_of_a_broken_template_points_at_the_error(window, qtbot) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("Hello {{ name ")
    assert window.workspace.preview() is None
    assert window.editor.error_position is not None


def test_dropping_a_dragged_column_moves_it(window, qtbot) -> None:
    board = window.run_board
    for name in ("b", "c"):
        board.add_column().model.setText(name)
    board.columns[0].model.setText("a")
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: all(c.isVisible() and c.width() > 0 for c in board.columns))
    strip = board.columns[0].parentWidget()
    data = QMimeData()
    data.setData(COLUMN_MIME, QByteArray(board.columns[0].column_id.encode()))
    right_edge = QPointF(board.columns[2].geometry().right() - 2, 20)
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(
        right_edge.toPoint(), Qt.DropAction.MoveAction, data, buttons, modifiers
    )
    drop = QDropEvent(right_edge, Qt.DropAction.MoveAction, data, buttons, modifiers)
    for event in (enter, drop):
        QApplication.sendEvent(strip, event)
        assert event.isAccepted()
    assert [c.model.text() for c in board.columns] == ["b", "c", "a"]
    assert isinstance(strip, ColumnStrip) and strip.drop_index(-1) == 0


def test_compare_two_columns_and_a_column_with_its_previous_run(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="The cat sat on the mat."), model="one")
    fake_llm.script(Reply(text="The dog sat on the rug."), model="two")
    new_prompt(qtbot, window)
    window.editor.setPlainText("Write a sentence")
    board = window.run_board
    first, second = board.columns[0], board.add_column()
    first.set_target(fake_llm.base_url, "one")
    second.set_target(fake_llm.base_url, "two")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    dialog = compare_answers(first, second, board)
    assert dialog.view.left.toPlainText() == "The cat sat on the mat."
    assert dialog.view.right.toPlainText() == "The dog sat on the rug."
    assert dialog.view.changes() == 2
    dialog.close()

    fake_llm.script(Reply(text="The cat sat on the hat."), model="one")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        first.run_button.click()
    first.compare_menu.aboutToShow.emit()
    labels = [a.text() for a in first.compare_menu.actions()]
    assert labels == ["Its previous run", "two"]
    dialog = compare_previous(first, board)
    assert dialog.view.left.toPlainText() == "The cat sat on the mat."
    assert dialog.view.right.toPlainText() == "The cat sat on the hat."
    assert dialog.view.changes() == 1
    dialog.close()


def test_pin_an_answer_keeps_it_beside_later_runs(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="first answer"), times=1)
    fake_llm.script(Reply(text="second answer"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    board = window.run_board
    assert board.pinned.isHidden()
    board.pin_answer(column.column_id)
    qtbot.waitUntil(lambda: board.pinned.count() == 1)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.output.toPlainText() == "second answer"
    assert not board.pinned.isHidden() and board.pinned.count() == 1
    assert board.pinned.widget(0).toPlainText() == "first answer"
    assert board.pinned.tabText(0).startswith("m · ")
    board.pinned.tabCloseRequested.emit(0)
    assert board.pinned.count() == 0 and board.pinned.isHidden()


def test_a_long_single_paragraph_is_kept_exact_where_it_matters(window, qtbot, fake_llm) -> None:
    text = " ".join(f"t{i}" for i in range(6000))  # ~35k characters, no line break
    fake_llm.script(Reply(text=text, tokens_per_second=None))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runStored, timeout=20_000) as stored:
        window.registry["run.run"].trigger()
    assert column.output.toPlainText() == text  # shown as the one paragraph it is
    assert column.output.paragraphs() == 1
    assert column.output.document().blockCount() >= 10  # in pieces, so appends stay cheap
    column.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == text  # copied exactly
    saved = window.workspace.db.call(
        lambda conn: conn.execute(
            "SELECT text FROM responses WHERE id = ?", (stored.args[0],)
        ).fetchone()[0]
    )
    assert saved == text  # stored exactly


def test_column_parameters_reach_the_wire_and_round_trip(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="ok"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    column.more_button.click()
    assert column.more.isVisibleTo(column)
    column.temperature.setValue(0.7)
    column.top_p.setValue(0.9)
    qtbot.keyClicks(column.seed, "42x")  # the validator keeps digits only
    column.stop.setText("###| END |")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    sent = fake_llm.requests[-1].json
    assert (sent["temperature"], sent["top_p"], sent["seed"]) == (0.7, 0.9, 42)
    assert sent["stop"] == ["###", "END"]
    config = ColumnConfig.from_dict(column.config().to_dict())
    other = window.run_board.add_column(config)
    assert other.seed.text() == "42" and other.stop.text() == "### | END"
    assert other.more_button.isChecked()


def test_the_worker_only_feeds_the_board_and_a_sample_picked_mid_stream_shows_each_delta_once(
    qtbot,
) -> None:
    board = RunBoard()
    qtbot.addWidget(board)
    column = board.columns[0]
    board.begin([column.column_id], samples=2)
    endpoint = Endpoint(base_url="http://127.0.0.1:9/v1")
    first, second = (
        TargetResult(RunTarget(sample_key(column.column_id, n), endpoint, "m")) for n in range(2)
    )

    def on_worker(call: Callable[..., None], *args: object) -> None:
        worker = threading.Thread(target=call, args=args)
        worker.start()
        worker.join()

    def stream(result: TargetResult, delta: str) -> None:  # what the engine does there
        result.add_text(delta)
        board.on_update(result.target.key, result, delta)

    on_worker(stream, first, "one ")
    on_worker(stream, second, "uno ")
    assert column.answers.samples == [
        None,
        None,
    ]  # the worker's thread changed nothing of the column
    board.flush()
    assert column.answers.samples == [first, second]
    assert column.output.toPlainText() == "one "
    on_worker(second.add_text, "dos ")  # a delta is in the answer...
    column.samples_bar.setCurrentIndex(1)  # ...when its sample is picked, before it is reported
    on_worker(board.on_update, second.target.key, second, "dos ")
    board.flush()
    assert column.output.toPlainText() == "uno dos "
