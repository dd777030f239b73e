"""The test-case table: edits, undo, shortcuts, import/export and the every-case checks."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QFileDialog, QPlainTextEdit, QWidget

from promptstudio.exchange.errors import ExchangeError
from promptstudio.ui.evaluate.cases_model import CasesModel
from promptstudio.ui.evaluate.cases_table import CasesTable

Role = Qt.ItemDataRole
H = Qt.Orientation.Horizontal
CASES: list[dict[str, Any]] = [
    {"id": 11, "vars": {"city": "Paris", "n": 42}, "expected": "France"},
    {
        "id": 12,
        "vars": {"city": "Rome", "n": 7},
        "description": "capital",
        "assert": [{"type": "contains", "value": "Italy"}, {"type": "latency", "threshold": 2000}],
    },
    {"id": 13, "vars": {"city": "Oslo", "n": [1, 2]}},
]


@pytest.fixture
def table(qtbot) -> Iterator[CasesTable]:
    widget = CasesTable()
    qtbot.addWidget(widget)
    widget.model.set_variables(["city", "n"])
    widget.model.set_cases(copy.deepcopy(CASES))
    yield widget


def column(model: CasesModel, name: str) -> int:
    names = [model.headerData(n, H) for n in range(model.columnCount())]
    return names.index(name)


def focus_view(qtbot, table: CasesTable) -> None:
    table.show()
    qtbot.waitExposed(table)
    table.activateWindow()
    table.view.setFocus()
    qtbot.waitUntil(table.view.hasFocus)


def test_columns_and_what_cells_show(table: CasesTable) -> None:
    model = table.model
    assert [model.headerData(n, H) for n in range(model.columnCount())] == [
        "city", "n", "Expected", "Checks", "Notes",
    ]  # fmt: skip
    checks = model.index(1, column(model, "Checks"))
    assert checks.data() == "contains: Italy · latency: 2000"
    assert checks.data(Role.ToolTipRole) == "contains: Italy\nlatency: 2000"
    assert checks.data(Role.EditRole) == "contains: Italy\nlatency: 2000"
    assert model.index(2, 1).data() == "[1,2]"
    assert model.index(1, column(model, "Notes")).data() == "capital"
    assert model.index(1, column(model, "Expected")).data() == ""
    tip = model.headerData(column(model, "Checks"), H, Role.ToolTipRole)
    assert "icontains" in tip and "llm-rubric" in tip and "not-" in tip
    assert model.headerData(0, H, Role.ToolTipRole) == "Variable of the template"
    assert "Graded with equals" in model.headerData(column(model, "Expected"), H, Role.ToolTipRole)
    count = table.findChild(type(table.count_label), "casesCount")
    assert count is not None and count.text() == "3 cases"
    assert model.cases() == CASES


def test_variables_only_in_cases_become_columns(table: CasesTable) -> None:
    model = table.model
    model.set_variables(["city"])  # "n" left the template
    assert [model.headerData(n, H) for n in range(2)] == ["city", "n"]
    assert model.headerData(1, H, Role.ToolTipRole) == "Not in the template (only in cases)"
    model.set_variables(["topic", "city"])
    assert [model.headerData(n, H) for n in range(3)] == ["topic", "city", "n"]
    assert model.index(0, 0).data() == ""  # no value for "topic" yet
    assert model.cases() == CASES  # nothing added to the cases


def test_edit_through_the_delegate_and_set_data(qtbot, table: CasesTable) -> None:
    model, view = table.model, table.view
    focus_view(qtbot, table)
    index = model.index(0, 0)
    view.setCurrentIndex(index)
    with qtbot.waitSignal(model.casesChanged, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_F2)
        editor = view.indexWidget(index)
        assert editor is not None
        editor.selectAll()  # type: ignore[attr-defined]
        qtbot.keyClicks(editor, "Lyon")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert model.cases()[0]["vars"]["city"] == "Lyon"

    notes = model.index(0, column(model, "Notes"))
    with qtbot.waitSignal(model.casesChanged, timeout=1000):
        assert model.setData(notes, "a note")
    with qtbot.waitSignal(model.casesChanged, timeout=1000):
        assert model.setData(model.index(0, column(model, "Expected")), "")
    first = model.cases()[0]
    assert first["description"] == "a note" and "expected" not in first and first["id"] == 11


def test_a_number_stays_a_number(qtbot, table: CasesTable) -> None:
    model = table.model
    n = model.index(0, 1)
    assert n.data(Role.EditRole) == "42"
    assert model.setData(n, "43")
    assert model.cases()[0]["vars"]["n"] == 43
    assert model.setData(model.index(2, 1), '[1, 2, "x"]')
    assert model.cases()[2]["vars"]["n"] == [1, 2, "x"]
    assert model.setData(n, "forty")  # not JSON: kept as the text typed
    assert model.cases()[0]["vars"]["n"] == "forty"
    assert model.setData(model.index(1, 0), "12")  # text stays text
    assert model.cases()[1]["vars"]["city"] == "12"


def test_invalid_checks_are_refused_and_explained(qtbot, table: CasesTable) -> None:
    model = table.model
    checks = model.index(1, column(model, "Checks"))
    changed: list[None] = []
    model.casesChanged.connect(lambda: changed.append(None))
    with qtbot.waitSignal(model.problem, timeout=1000) as problem:
        assert not model.setData(checks, "contains: Italy\nshouts loudly")
    assert problem.args[0].startswith("Line 2: ")
    assert model.cases() == CASES and not changed
    label = table.problem_label
    assert label.isVisibleTo(table) and problem.args[0] in label.text()
    assert model.setData(checks, "icontains: rome\n\nnot-regex: ^\\d+$")
    assert model.cases()[1]["assert"] == [
        {"type": "icontains", "value": "rome"},
        {"type": "not-regex", "value": "^\\d+$"},
    ]
    assert len(changed) == 1


def test_checks_cell_editor_keeps_refused_text_open(qtbot, table: CasesTable) -> None:
    model, view = table.model, table.view
    focus_view(qtbot, table)
    index = model.index(0, column(model, "Checks"))
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.indexWidget(index)
    assert isinstance(editor, QPlainTextEdit)
    editor.setPlainText("equals: France\nnonsense")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.indexWidget(index) is editor  # still open, the text still there
    assert "Line 2" in table.problem_label.text()
    qtbot.keyClick(editor, Qt.Key.Key_Tab)  # nor does Tab leave refused checks behind
    assert view.indexWidget(index) is editor
    assert editor.toPlainText() == "equals: France\nnonsense" and model.cases() == CASES
    editor.setPlainText("equals: France\nstarts-with: Fr")
    run = QAction("Run", table)  # the main window's Ctrl+Return must not fire from the cell
    run.setShortcut(QKeySequence("Ctrl+Return"))
    run.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    table.addAction(run)
    with qtbot.waitSignal(model.casesChanged, timeout=1000), qtbot.assertNotEmitted(run.triggered):
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.indexWidget(index) is None)
    assert model.cases()[0]["assert"] == [
        {"type": "equals", "value": "France"},
        {"type": "starts-with", "value": "Fr"},
    ]
    undo = table.toolbar_actions["undo"]
    assert undo.isEnabled() and "Edit Checks" in undo.toolTip()


def test_row_operations_undo_and_redo_exactly(qtbot, table: CasesTable) -> None:
    model = table.model
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    history = [model.cases()]
    with qtbot.waitSignal(model.casesChanged, timeout=1000):
        assert model.add_case({"city": "Bern"}, row=1) == 1
    assert model.cases()[1] == {"vars": {"city": "Bern", "n": ""}}
    history.append(model.cases())
    assert model.duplicate_rows([0, 2]) == [1, 4]
    assert [case.get("id") for case in model.cases()] == [11, None, None, 12, None, 13]
    history.append(model.cases())
    model.remove_rows([0, 3])
    history.append(model.cases())
    assert model.move_row(0, 2) == 2
    history.append(model.cases())
    assert model.move_row(2, -1) == 1
    history.append(model.cases())
    assert model.move_row(0, -1) == 0  # already at the top: no step
    model.replace_all([{"vars": {"topic": "x"}}])
    history.append(model.cases())
    assert model.columnCount() == 6  # city, n, topic, and the three fixed ones

    stack = model.undo_stack
    assert stack.count() == len(history) - 1
    for expected in reversed(history[:-1]):
        with qtbot.waitSignal(model.casesChanged, timeout=1000):
            stack.undo()
        assert model.cases() == expected
    assert model.cases() == CASES
    for expected in history[1:]:
        with qtbot.waitSignal(model.casesChanged, timeout=1000):
            stack.redo()
        assert model.cases() == expected
    del tester


def test_ids_follow_their_cases_through_undo(table: CasesTable) -> None:
    model = table.model
    model.add_case({"city": "Bern", "n": 1})
    model.assign_ids([11, 12, 13, 14])
    model.remove_rows([3])
    model.undo_stack.undo()  # the deleted case comes back under its id
    assert model.cases()[3] == {"id": 14, "vars": {"city": "Bern", "n": 1}}
    model.set_cases([])
    assert model.undo_stack.count() == 0 and model.rowCount() == 0


def test_set_cases_does_not_emit_cases_changed(qtbot, table: CasesTable) -> None:
    with qtbot.assertNotEmitted(table.model.casesChanged):
        table.model.set_cases([{"vars": {"city": "Nice"}}])
    assert table.count_label.text() == "1 case"


def test_keyboard_delete_undo_duplicate_and_move(qtbot, table: CasesTable) -> None:
    model, view = table.model, table.view
    focus_view(qtbot, table)
    table.select_rows([0, 1])
    with qtbot.waitSignal(model.casesChanged, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert model.cases() == CASES[2:]
    assert table.count_label.text() == "1 case"
    with qtbot.waitSignal(model.casesChanged, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert model.cases() == CASES
    assert table.selected_rows() == [0, 1]  # the rows that came back
    with qtbot.waitSignal(model.casesChanged, timeout=1000):
        qtbot.keyClick(
            view,
            Qt.Key.Key_Z,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert model.cases() == CASES[2:]
    model.undo_stack.undo()

    table.select_rows([0])
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [case["id"] for case in model.cases()] == [12, 11, 13]
    assert table.selected_rows() == [1]  # the selection moved with the case
    qtbot.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert model.cases() == CASES
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert [case.get("id") for case in model.cases()] == [11, None, 12, 13]
    assert table.selected_rows() == [1]
    qtbot.keyClick(
        view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert model.rowCount() == 5 and model.cases()[4] == {"vars": {"city": "", "n": ""}}
    editor = view.indexWidget(model.index(4, 0))
    assert editor is not None  # ready to type the first value
    with qtbot.assertNotEmitted(model.casesChanged):  # keys in a cell editor edit its text
        qtbot.keyClick(editor, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(editor, Qt.Key.Key_Delete)
        qtbot.keyClick(editor, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert model.rowCount() == 5


def test_from_the_form_asks_the_owner(qtbot, table: CasesTable) -> None:
    with qtbot.waitSignal(table.addFromFormRequested, timeout=1000):
        table.toolbar_actions["from_form"].trigger()


def test_import_csv_and_jsonl_replace_and_undo(qtbot, table: CasesTable, tmp_path: Path) -> None:
    model = table.model
    csv_file = tmp_path / "x.csv"
    csv_file.write_text(
        "city,__expected,__expected1\nLima,Peru,\nQuito,,icontains: ecuador\n", encoding="utf-8"
    )
    with qtbot.waitSignal(table.statusMessage, timeout=1000) as said:
        table.import_file(csv_file)
    assert said.args == ["Imported 2 cases from x.csv"]
    assert model.cases() == [
        {"vars": {"city": "Lima"}, "expected": "Peru"},
        {"vars": {"city": "Quito"}, "assert": [{"type": "icontains", "value": "ecuador"}]},
    ]
    jsonl_file = tmp_path / "y.jsonl"
    lines = [{"vars": {"city": "Kyiv", "n": 3}}, {"vars": {"city": "Riga"}, "description": "d"}]
    jsonl_file.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    table.import_file(jsonl_file)
    assert model.cases() == lines
    model.undo_stack.undo()
    assert len(model.cases()) == 2 and model.cases()[0]["vars"] == {"city": "Lima"}
    model.undo_stack.undo()
    assert model.cases() == CASES  # ids included


def test_a_broken_file_changes_nothing(qtbot, table: CasesTable, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text('city,__expected\n"Lima,Peru\n', encoding="utf-8")
    with qtbot.waitSignal(table.failed, timeout=1000) as failed:
        table.import_file(broken)
    assert isinstance(failed.args[0], ExchangeError)
    assert "broken.csv" in failed.args[0].message
    assert table.model.cases() == CASES and table.model.undo_stack.count() == 0
    with qtbot.waitSignal(table.failed, timeout=1000) as missing:
        table.import_file(tmp_path / "absent.jsonl")
    assert isinstance(missing.args[0], ExchangeError)


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_export_then_import_gives_the_same_cases(
    qtbot, table: CasesTable, tmp_path: Path, suffix: str
) -> None:
    model = table.model
    if suffix == "csv":  # CSV cells are text: start from text values
        model.set_cases([{**case, "vars": {**case["vars"], "n": "1"}} for case in CASES])
    written = [{k: v for k, v in case.items() if k != "id"} for case in model.cases()]
    path = tmp_path / f"out.{suffix}"
    with qtbot.waitSignal(table.statusMessage, timeout=1000) as said:
        table.export_file(path)
    assert said.args == [f"Exported 3 cases to out.{suffix}"]
    model.set_cases([])
    table.import_file(path)
    assert model.cases() == written


def test_file_dialogs_open_without_blocking(qtbot, table: CasesTable) -> None:
    for open_dialog, name in (
        (table.choose_import, "importCasesDialog"),
        (table.choose_export, "exportCasesDialog"),
    ):
        dialog = open_dialog()
        assert table.findChild(QFileDialog, name) is dialog and dialog.isVisible()
        assert "*.jsonl" in dialog.nameFilters()[0]
        dialog.reject()


def test_every_case_checks(qtbot, table: CasesTable) -> None:
    editor = table.findChild(QPlainTextEdit, "everyCaseChecks")
    assert editor is table.every_case
    with qtbot.assertNotEmitted(table.everyCaseChecksChanged):
        table.set_every_case_checks([{"type": "latency", "threshold": 3000}])
    assert editor.toPlainText() == "latency: 3000"
    with qtbot.waitSignal(table.everyCaseChecksChanged, timeout=2000) as changed:
        editor.moveCursor(editor.textCursor().MoveOperation.End)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.keyClicks(editor, "is-json")
    assert changed.args[0] == [{"type": "latency", "threshold": 3000}, {"type": "is-json"}]

    problem = table.problem_label
    with qtbot.assertNotEmitted(table.everyCaseChecksChanged, wait=600):
        qtbot.keyClicks(editor, " please")
        qtbot.waitUntil(lambda: problem.isVisibleTo(table))
    assert "Line 2" in problem.text()
    editor.setPlainText("contains: ok")
    with qtbot.waitSignal(table.everyCaseChecksChanged, timeout=1000):
        table.flush()  # pending: emitted at once
    qtbot.waitUntil(lambda: not problem.isVisibleTo(table))


def test_screenshot(qtbot, table: CasesTable) -> None:
    model = table.model
    model.set_variables(["city", "question"])
    model.set_cases(
        [
            {"vars": {"city": "Paris", "question": "What country is it in?"}, "expected": "France"},
            {
                "vars": {
                    "city": "Rome",
                    "question": "Name its river and the hills, with a short history of each "
                    "one in two lines",
                },
                "assert": [
                    {"type": "icontains", "value": "Tiber"},
                    {"type": "latency", "threshold": 2000},
                ],
                "description": "long answer",
            },
            {"vars": {"city": "Oslo", "question": "Population?"}, "assert": [{"type": "is-json"}]},
            {
                "vars": {"city": "Lima", "question": "Capital of?\nAnswer in one word."},
                "expected": "Peru",
            },
            {"vars": {"city": "Kyiv", "question": "Which river?", "extra": [1, 2]}},
            {
                "vars": {"city": "Bern", "question": "Is it the capital?"},
                "assert": [{"type": "llm-rubric", "value": "says yes, politely"}],
            },
        ]
    )
    table.set_every_case_checks([{"type": "latency", "threshold": 3000}])
    table.select_rows([1])
    table.resize(900, 420)
    table.show()
    qtbot.waitExposed(table)
    view = table.view
    qtbot.waitUntil(lambda: view.rowHeight(1) > view.rowHeight(0))  # rows fit their text...
    cap = view.verticalHeader().maximumSectionSize()
    assert view.rowHeight(1) <= cap and view.rowHeight(2) < cap  # ...up to a few lines
    assert table.grab().save("/tmp/cases_table.png")
    assert model.rowCount() == 6 and QModelIndex() != model.index(0, 0)


def _typing_into(qtbot) -> QWidget:
    """The widget the keyboard types into now."""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def test_add_case_then_tab_walks_the_new_row(qtbot, table: CasesTable) -> None:
    """Add case edits the new row's first cell; Tab goes variable by variable, then
    Expected, Checks (a multi-line box) and Notes, all in that row; Tab past the last
    cell ends editing instead of going round to the first row (issue 14, point 20)."""
    model, view = table.model, table.view
    table.resize(900, 420)
    focus_view(qtbot, table)
    view.setCurrentIndex(model.index(1, column(model, "Expected")))  # somewhere else first
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    new = model.rowCount() - 1
    for header, text in (("city", "Lyon"), ("n", "9"), ("Expected", "France"),
                         ("Checks", "contains: Rh"), ("Notes", "second city")):  # fmt: skip
        index = model.index(new, column(model, header))
        qtbot.waitUntil(lambda index=index: view.indexWidget(index) is not None)
        editor = _typing_into(qtbot)
        assert editor is view.indexWidget(index), header
        if header == "Checks":  # the box sits in its own row, from the cell's top down
            assert isinstance(editor, QPlainTextEdit)
            cell = view.visualRect(index)
            assert editor.geometry().top() == cell.top() and cell.height() >= editor.height()
            assert view.rowViewportPosition(new) >= 0
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: view.state() != view.State.EditingState)
    assert model.cases()[new] == {
        "vars": {"city": "Lyon", "n": "9"},
        "expected": "France",
        "description": "second city",
        "assert": [{"type": "contains", "value": "Rh"}],
    }
    assert model.cases()[:new] == CASES
    assert view.currentIndex() == model.index(new, column(model, "Notes"))
    # Shift+Tab goes back along the row, through the multi-line box too.
    view.edit(model.index(new, column(model, "Notes")))
    qtbot.keyClick(_typing_into(qtbot), Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    checks = model.index(new, column(model, "Checks"))
    qtbot.waitUntil(lambda: view.indexWidget(checks) is not None)
    qtbot.keyClick(_typing_into(qtbot), Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    expected = model.index(new, column(model, "Expected"))
    qtbot.waitUntil(lambda: view.indexWidget(expected) is not None)
    assert _typing_into(qtbot) is view.indexWidget(expected)
