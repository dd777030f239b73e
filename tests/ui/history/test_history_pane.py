"""The history panel over a real library file: lazy timeline, diffs, runs, labels, restore."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from promptstudio.storage import Database, library
from promptstudio.ui.history.diff_view import WORD_INSERTED, WORD_REMOVED, DiffEditor
from promptstudio.ui.history.history_model import (
    Column,
    VersionHistoryModel,
    format_cost,
    format_seconds,
    format_when,
    local_time,
)
from promptstudio.ui.history.history_pane import COMPARE_TAB, RUNS_TAB, HistoryPane
from promptstudio.ui.tasks import TaskOwner

TIMEOUT = 5000
V1 = "system:\nYou are a helpful assistant.\nuser:\n{{ question }}"
V2 = "system:\nYou are a concise assistant.\nuser:\n{{ question }}"
V3 = "system:\nYou are a concise assistant.\nAnswer in one sentence.\nuser:\n{{ question }}"
V4 = "system:\nYou are a formal assistant.\nAnswer in one sentence.\nuser:\n{{ question }}"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "library.sqlite3")
    yield database
    database.close()


@pytest.fixture
def tasks(qloop: asyncio.AbstractEventLoop) -> Iterator[TaskOwner]:
    owner = TaskOwner()
    yield owner
    owner.cancel_all()


@pytest.fixture
def pane(qtbot: QtBot, db: Database, tasks: TaskOwner) -> Iterator[HistoryPane]:
    widget = HistoryPane(db, tasks)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    yield widget
    widget.close()


def seed(db: Database, templates: Sequence[str], messages: Sequence[str] = ()) -> list[int]:
    """A prompt with these versions, oldest first; returns [prompt id, version ids...]."""

    def write(conn: sqlite3.Connection) -> list[int]:
        prompt = library.create_prompt(conn, "Support answer")
        ids = [prompt.id]
        for n, template in enumerate(templates):
            message = messages[n] if n < len(messages) else f"edit {n + 1}"
            ids.append(library.save_version(conn, prompt.id, template, {}, {}, message=message).id)
        return ids

    return db.call(write)


def answer(
    db: Database,
    version_id: int,
    *replies: tuple[str, str, str, float | None, float | None],
) -> None:
    """One run of the version with (model, status, text, cost, total ms) answers."""

    def write(conn: sqlite3.Connection) -> None:
        run = library.record_run(conn, version_id, {"question": "Where is my parcel?"})
        for model, status, text, cost, total_ms in replies:
            library.add_response(
                conn,
                run.id,
                base_url="http://127.0.0.1:8080/v1",
                model=model,
                params={},
                messages=[{"role": "user", "content": "Where is my parcel?"}],
                text=text,
                status=status,
                error=None if status == "done" else "the stream was cut",
                finish_reason="stop",
                ttft_ms=None if total_ms is None else total_ms / 4,
                total_ms=total_ms,
                input_tokens=40,
                output_tokens=120,
                usage_estimated=False,
                cost=cost,
            )

    db.call(write)


def open_prompt(qtbot: QtBot, pane: HistoryPane, prompt_id: int) -> None:
    """Open a prompt and wait until its newest version is shown and its labels are known."""
    with qtbot.waitSignals(
        [pane.diffShown, pane.tasks.finished],
        check_params_cbs=[lambda: True, lambda name: name == "history.meta"],
        timeout=TIMEOUT,
    ):
        pane.set_prompt(prompt_id)


def cell(model: VersionHistoryModel, row: int, column: Column) -> str:
    return str(model.data(model.index(row, column)))


def row_of_number(model: VersionHistoryModel, number: int) -> int:
    return next(r for r in range(model.rowCount()) if model.summary(r).number == number)


def highlighted(editor: DiffEditor, colour: object) -> list[str]:
    """The pieces of text painted with ``colour`` as background."""
    found: list[str] = []
    block = editor.document().firstBlock()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.charFormat().background().color() == colour:
                found.append(fragment.text())
            fragments += 1
        block = block.next()
    return found


# ---- the timeline model -------------------------------------------------------------------


def test_history_loads_a_page_at_a_time(qtbot: QtBot, db: Database, tasks: TaskOwner) -> None:
    prompt_id, *_ = seed(db, [f"template {n}" for n in range(1, 451)])
    model = VersionHistoryModel(db, tasks)
    assert not model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.set_prompt(prompt_id)
    assert model.rowCount() == 200
    assert cell(model, 0, Column.VERSION) == "v450"  # newest first
    assert cell(model, 199, Column.VERSION) == "v251"
    assert model.canFetchMore(QModelIndex())

    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.fetchMore(QModelIndex())
        model.fetchMore(QModelIndex())  # a second ask while loading is ignored
        assert not model.canFetchMore(QModelIndex())
    assert model.rowCount() == 400
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 450
    assert cell(model, 449, Column.VERSION) == "v1"
    assert not model.canFetchMore(QModelIndex())
    assert len({model.summary(row).id for row in range(450)}) == 450


def test_refresh_adds_new_versions_on_top_and_keeps_loaded_rows(
    qtbot: QtBot, db: Database, tasks: TaskOwner
) -> None:
    prompt_id, *_ = seed(db, [f"template {n}" for n in range(1, 251)])
    model = VersionHistoryModel(db, tasks)
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.set_prompt(prompt_id)
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 250
    db.call(library.save_version, prompt_id, "template 251", {}, {})
    with (
        qtbot.waitSignal(model.rowsInserted, timeout=TIMEOUT) as inserted,
        qtbot.assertNotEmitted(model.modelReset),
    ):
        model.refresh()
    assert inserted.args[1:] == [0, 0]
    assert model.rowCount() == 251
    assert cell(model, 0, Column.VERSION) == "v251"
    assert not model.canFetchMore(QModelIndex())


def test_the_table_fetches_the_next_page_when_scrolled_to_the_end(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, *_ = seed(db, [f"template {n}" for n in range(1, 451)])
    open_prompt(qtbot, pane, prompt_id)
    assert pane.model.rowCount() == 200
    assert [v.number for v in pane.selected_versions()] == [450]  # the newest is selected
    with qtbot.waitSignal(pane.model.loaded, timeout=TIMEOUT):
        pane.table.scrollToBottom()
    assert pane.model.rowCount() == 400


def test_a_prompt_without_versions_shows_hints_and_no_actions(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt = db.call(library.create_prompt, "Empty")
    with qtbot.waitSignal(pane.model.loaded, timeout=TIMEOUT):
        pane.set_prompt(prompt.id)
    assert pane.model.rowCount() == 0
    assert not pane.model.canFetchMore(QModelIndex())
    assert pane.diff_stack.currentWidget() is pane.diff_stack.hint
    assert not any(
        action.isEnabled() for action in (pane.open_action, pane.restore_action, pane.label_action)
    )
    pane.set_prompt(None)
    assert pane.model.rowCount() == 0 and pane.model.prompt_id is None


def test_columns_show_number_labels_runs_cost_and_latency(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, v1, v2 = seed(db, [V1, V2], ["first draft", "shorter\nsecond line of the message"])
    db.call(library.set_label, prompt_id, "prod", v1)
    db.call(library.set_label, prompt_id, "best", v1)
    answer(db, v1, ("gpt-4o-mini", "done", "It ships today.", 0.0012, 1234.0))
    answer(
        db,
        v1,
        ("gpt-4o-mini", "done", "Tomorrow.", 0.0030, 980.0),
        ("llama-3", "failed", "", 0.00001, 120.0),  # failed answers are not "best"
    )
    open_prompt(qtbot, pane, prompt_id)
    model = pane.model
    assert [cell(model, 0, c) for c in Column] == [
        "v2",
        format_when(model.summary(0).created_at),
        "shorter",
        "",
        "save",
        "—",
        "—",
        "—",
    ]
    assert [cell(model, 1, c) for c in Column][2:] == [
        "first draft",
        "best, prod",
        "save",
        "2",
        "$0.0012",
        "0.98 s",
    ]
    assert model.data(model.index(1, Column.RUNS), Qt.ItemDataRole.ToolTipRole) == (
        "2 runs, 3 answers"
    )
    assert model.data(model.index(0, Column.MESSAGE), Qt.ItemDataRole.ToolTipRole) == (
        "shorter\nsecond line of the message"
    )
    assert model.headerData(Column.BEST_LATENCY, Qt.Orientation.Horizontal) == "Best latency"
    assert v2 == model.summary(0).id


def test_formats() -> None:
    created = "2025-03-05T13:02:00.000Z"
    moment = local_time(created)
    assert format_when(created, now=moment) == moment.strftime("%H:%M")
    assert format_when(created, now=moment + timedelta(days=2)) == moment.strftime("%Y-%m-%d")
    assert [format_cost(c) for c in (None, 0, 0.0012, 0.000058, 0.25, 0.05, 3.5, 1e-9)] == [
        "—",
        "$0",
        "$0.0012",
        "$0.000058",
        "$0.25",
        "$0.050",
        "$3.50",
        "<$0.000001",
    ]
    assert [format_seconds(ms) for ms in (None, 1234, 850, 12_000)] == [
        "—",
        "1.2 s",
        "0.85 s",
        "12.0 s",
    ]


# ---- the tabs -----------------------------------------------------------------------------


def test_two_selected_versions_are_diffed_older_on_the_left(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, _v1, v2, _v3, v4 = seed(
        db, [V1, V2, V3, V4], ["a", "concise", "one sentence", "formal"]
    )
    open_prompt(qtbot, pane, prompt_id)
    assert pane.diff.right.toPlainText() == V4  # the newest, against its parent
    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v4, v2)  # newest picked first: still shown older → newer
    assert [v.number for v in pane.selected_versions()] == [2, 4]
    assert pane.diff_stack.currentWidget() is pane.diff
    assert pane.diff.left_title.text() == "v2 · concise"
    assert pane.diff.right_title.text() == "v4 · formal"
    assert pane.diff.left.toPlainText().replace("\n", "") == V2.replace("\n", "")
    assert "Answer in one sentence." in pane.diff.right.toPlainText()
    assert pane.diff.changes() > 0
    assert highlighted(pane.diff.left, WORD_REMOVED) == ["concise"]
    assert highlighted(pane.diff.right, WORD_INSERTED) == ["formal"]


def test_one_version_is_diffed_against_its_parent(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, v1, _v2, v3, _v4 = seed(db, [V1, V2, V3, V4], ["a", "concise", "one sentence", "x"])
    open_prompt(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v3)
    assert pane.diff.left_title.text() == "v2 · concise"
    assert pane.diff.right_title.text() == "v3 · one sentence"
    assert pane.diff.changes() == 1
    assert pane.diff.summary.text() == "+1 −0 ~0 lines"

    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v1)  # the first version: everything is new
    assert pane.diff.left_title.text() == "No earlier version"
    assert pane.diff.right.toPlainText() == V1
    assert pane.diff.summary.text() == "+4 −0 ~0 lines"


def test_three_selected_versions_ask_for_one_or_two(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, v1, v2, v3, _v4 = seed(db, [V1, V2, V3, V4])
    open_prompt(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v1, v2, v3)
    assert pane.diff_stack.currentWidget() is pane.diff_stack.hint
    assert "two" in pane.diff_stack.hint.text()


def test_runs_tab_shows_the_selected_versions_answers(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, v1, v2 = seed(db, [V1, V2])
    answer(db, v1, ("gpt-4o-mini", "done", "Old answer.", 0.001, 900.0))
    answer(
        db,
        v2,
        ("gpt-4o-mini", "done", "It ships today.", 0.0012, 1200.0),
        ("llama-3", "failed", "It ships", None, 300.0),
    )
    open_prompt(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.runsShown, timeout=TIMEOUT):
        pane.tabs.setCurrentIndex(RUNS_TAB)
    runs = pane.runs_model
    assert runs.rowCount() == 1
    run = runs.index(0, 0)
    assert "2 answers" in str(run.data())
    assert runs.rowCount(run) == 2
    rows = [[str(runs.index(r, c, run).data()) for c in range(6)] for r in range(2)]
    assert rows == [
        ["gpt-4o-mini", "done", "0.30 s", "1.2 s", "40 → 120", "$0.0012"],
        ["llama-3", "failed", "0.07 s", "0.30 s", "40 → 120", "—"],  # ttft 75 ms
    ]
    assert pane.answer.toPlainText() == "It ships today."  # the first answer is selected
    pane.runs_tree.setCurrentIndex(runs.index(1, 0, run))
    assert pane.answer.toPlainText().startswith("It ships\n\n[failed] the stream was cut")
    assert "v2" in pane.runs_title.text()

    with qtbot.waitSignal(pane.runsShown, timeout=TIMEOUT):
        pane.select_versions(v1)
    assert runs.rowCount(runs.index(0, 0)) == 1
    assert pane.answer.toPlainText() == "Old answer."


def test_compare_tab_shows_one_models_answers_side_by_side(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, v1, _v2, v3 = seed(db, [V1, V2, V3], ["a", "b", "c"])
    answer(db, v1, ("gpt-4o-mini", "done", "Your parcel ships today.", 0.001, 900.0))
    answer(db, v1, ("gpt-4o-mini", "done", "Your parcel ships soon.", 0.001, 800.0))  # newest
    answer(db, v1, ("llama-3", "done", "Llama on v1.", None, 500.0))
    answer(db, v3, ("gpt-4o-mini", "done", "Your parcel ships tomorrow.", 0.002, 1500.0))
    answer(db, v3, ("llama-3", "done", "Llama on v3.", None, 400.0))
    open_prompt(qtbot, pane, prompt_id)
    assert [pane.model_combo.itemText(i) for i in range(pane.model_combo.count())] == [
        "gpt-4o-mini",  # most used first
        "llama-3",
    ]
    with qtbot.waitSignal(pane.comparisonShown, timeout=TIMEOUT):
        pane.tabs.setCurrentIndex(COMPARE_TAB)
    # One version selected (v3): against its parent, which this model never answered.
    assert pane.comparison.left_title.text() == "v2 · b · no answer from this model"
    assert pane.comparison.left.toPlainText() == ""
    assert pane.comparison.right.toPlainText() == "Your parcel ships tomorrow."

    with qtbot.waitSignal(pane.comparisonShown, timeout=TIMEOUT):
        pane.select_versions(v3, v1)
    assert pane.compare_stack.currentWidget() is pane.comparison
    assert pane.comparison.left.toPlainText() == "Your parcel ships soon."
    assert pane.comparison.right.toPlainText() == "Your parcel ships tomorrow."
    assert pane.comparison.left_title.text() == "v1 · a · 0.80 s · $0.0010"
    assert pane.comparison.right_title.text() == "v3 · c · 1.5 s · $0.0020"
    assert highlighted(pane.comparison.left, WORD_REMOVED) == ["soon"]
    assert highlighted(pane.comparison.right, WORD_INSERTED) == ["tomorrow"]

    with qtbot.waitSignal(pane.comparisonShown, timeout=TIMEOUT):
        pane.model_combo.setCurrentText("llama-3")
    assert pane.comparison.left.toPlainText() == "Llama on v1."
    assert pane.comparison.right.toPlainText() == "Llama on v3."


# ---- actions ------------------------------------------------------------------------------


def test_restore_is_a_request_the_pane_does_not_perform(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    """One restore path: the pane asks, the workspace restores (test_history_in_window)."""
    prompt_id, _v1, v2, _v3 = seed(db, [V1, V2, V3])
    open_prompt(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v2)
    with qtbot.waitSignal(pane.restoreRequested, timeout=TIMEOUT) as requested:
        pane.restore_action.trigger()
    assert requested.args == [v2]
    assert db.call(library.count_versions, prompt_id) == 3
    assert not hasattr(pane, "restore")


def test_open_in_editor_from_return_and_the_action(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, v1, _v2 = seed(db, [V1, V2])
    open_prompt(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v1)
    with qtbot.waitSignal(pane.openVersionRequested, timeout=TIMEOUT) as opened:
        qtbot.keyClick(pane.table, Qt.Key.Key_Return)
    assert opened.args == [v1]
    with qtbot.waitSignal(pane.openVersionRequested, timeout=TIMEOUT) as opened:
        pane.open_action.trigger()
    assert opened.args == [v1]


def test_labels_are_set_moved_and_removed(qtbot: QtBot, db: Database, pane: HistoryPane) -> None:
    prompt_id, v1, v2, v3 = seed(db, [V1, V2, V3])
    open_prompt(qtbot, pane, prompt_id)
    model = pane.model

    def labels() -> dict[int, str]:
        return {
            model.summary(r).number: cell(model, r, Column.LABELS) for r in range(model.rowCount())
        }

    def choose(dialog: QInputDialog | None, text: str) -> None:
        assert dialog is not None and dialog.isVisible()
        dialog.setTextValue(text)
        with qtbot.waitSignal(
            pane.tasks.finished, check_params_cb=lambda n: n == "history.label", timeout=TIMEOUT
        ):
            dialog.accept()

    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v1)
    assert not pane.unlabel_action.isEnabled()
    choose(pane.version_labels.ask_label(), " prod ")
    assert labels() == {3: "", 2: "", 1: "prod"}
    assert pane.unlabel_action.isEnabled()

    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.select_versions(v3)
    dialog = pane.version_labels.ask_label()
    assert dialog is not None and dialog.comboBoxItems()[0] == "prod"  # existing labels first
    choose(dialog, "prod")  # moves
    assert labels() == {3: "prod", 2: "", 1: ""}
    choose(pane.version_labels.ask_label(), "best")
    assert labels() == {3: "best, prod", 2: "", 1: ""}

    choose(pane.version_labels.ask_remove_label(), "prod")  # two labels: asks which
    assert labels() == {3: "best", 2: "", 1: ""}
    with qtbot.waitSignal(
        pane.tasks.finished, check_params_cb=lambda n: n == "history.label", timeout=TIMEOUT
    ):
        pane.unlabel_action.trigger()  # one label: removed at once
    assert labels() == {3: "", 2: "", 1: ""}
    assert db.call(library.list_labels, prompt_id) == []
    assert [v.id for v in pane.selected_versions()] == [v3]
    assert v2 == model.summary(1).id


def test_context_menu_offers_the_actions(qtbot: QtBot, db: Database, pane: HistoryPane) -> None:
    prompt_id, *_ = seed(db, [V1])
    open_prompt(qtbot, pane, prompt_id)
    menu = pane.context_menu()  # what a right-click pops up
    actions = [action for action in menu.actions() if not action.isSeparator()]
    assert [(a.text(), a.isEnabled()) for a in actions] == [
        ("Open in editor", True),
        ("Restore this version", True),
        ("Export this version…", True),
        ("Set label…", True),
        ("Remove label", False),  # v1 has no label
        ("Label gate…", True),
    ]
    menu.close()


def test_set_label_shortcut_opens_the_dialog(qtbot: QtBot, db: Database, pane: HistoryPane) -> None:
    prompt_id, *_ = seed(db, [V1])
    open_prompt(qtbot, pane, prompt_id)
    pane.activateWindow()
    pane.table.setFocus()
    with qtbot.waitSignal(pane.label_action.triggered, timeout=TIMEOUT):
        qtbot.keyClick(pane.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    dialog = pane.findChild(QInputDialog, "labelDialog")
    assert dialog is not None and dialog.isVisible()
    dialog.reject()


def test_a_search_match_selects_its_version_and_answer_past_the_first_page(
    qtbot: QtBot, pane: HistoryPane, db: Database
) -> None:
    """Issue 14, point 25: History shows the version and the answer that matched, reading
    older pages until the version is loaded."""
    prompt_id, first, *_ = seed(db, [f"template {n}" for n in range(7)])
    answer(db, first, ("m1", "done", "the matching answer", None, 900.0))
    answer(db, first, ("m2", "done", "a later answer", None, 800.0))
    matching = db.call(library.runs_for_version, first)[1].responses[0]  # not the newest
    assert matching.text == "the matching answer"
    pane.model.page_size = 2
    pane.show_match(prompt_id, first, matching.id)
    with qtbot.waitSignal(pane.runsShown, timeout=5000):
        pane.set_prompt(prompt_id)
    qtbot.waitUntil(lambda: [v.id for v in pane.selected_versions()] == [first], timeout=5000)
    assert pane.model.rowCount() > 2 and pane.tabs.currentIndex() == RUNS_TAB
    qtbot.waitUntil(
        lambda: pane.answer.toPlainText() == "the matching answer",
        timeout=5000,
    )


def test_runs_tab_shows_a_runs_tool_calls_and_the_results_sent_back(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, v1 = seed(db, [V1])
    function = {"name": "get_order_status", "arguments": '{"order_id": "A1"}'}
    call = {"id": "call_1", "type": "function", "function": function}

    def write(conn: sqlite3.Connection) -> None:
        run = library.record_run(conn, v1, {})
        fields: dict[str, Any] = {"status": "done", "error": None, "finish_reason": "tool_calls",
                  "ttft_ms": 10.0, "total_ms": 20.0, "input_tokens": 5, "output_tokens": 6,
                  "usage_estimated": False, "cost": None}  # fmt: skip
        response = library.add_response(
            conn, run.id, base_url="http://127.0.0.1:8080/v1", model="m", params={},
            messages=[{"role": "user", "content": "Where is A1?"}], text="Let me look.",
            tool_calls=[call], **fields,
        )  # fmt: skip
        result = {"role": "tool", "content": '{"status": "shipped"}', "tool_call_id": "call_1"}
        library.add_step(
            conn, response.id, step=1, turns=[result], text="It has shipped.", **fields
        )

    db.call(write)
    open_prompt(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.runsShown, timeout=TIMEOUT):
        pane.tabs.setCurrentIndex(RUNS_TAB)
    assert pane.answer.toPlainText() == (
        "Assistant:\nLet me look.\nTool call get_order_status\n  {\n"
        '    "order_id": "A1"\n  }\n  → result: {"status": "shipped"}\n\n'
        "Assistant:\nIt has shipped.\n\n— 2 answers · cost —"
    )
