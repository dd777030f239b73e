"""A test case holding a thread: the cases table says so and edits it as JSON (issue 17)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from promptstudio.ui.evaluate.cases_table import CasesTable

Role = Qt.ItemDataRole
THREAD = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Hello Ada!"},
    {"role": "user", "content": "What is my name?"},
]


def test_a_thread_shows_as_its_turns_and_is_edited_as_json(qtbot) -> None:
    table = CasesTable()
    qtbot.addWidget(table)
    model = table.model
    model.set_variables(["history", "topic"])
    model.set_cases([{"vars": {"history": THREAD}}, {"vars": {"topic": "x"}}])
    cell = model.index(0, 0)
    assert cell.data() == "thread of 3 turns"
    assert json.loads(cell.data(Role.EditRole)) == THREAD
    assert "Hello Ada!" in cell.data(Role.ToolTipRole)
    # Edited as JSON: a turn fewer.
    assert model.setData(cell, json.dumps(THREAD[:2]))
    assert cell.data() == "thread of 2 turns"
    # A thread typed into an empty cell is a thread, not text.
    empty = model.index(1, 0)
    assert model.setData(empty, json.dumps(THREAD))
    assert model.cases()[1]["vars"]["history"] == THREAD
    # Other text stays text.
    assert model.setData(model.index(1, 1), "[not json")
    assert model.cases()[1]["vars"]["topic"] == "[not json"
