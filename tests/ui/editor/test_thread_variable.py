"""A thread variable in the variables form: edited as turns (role and text, added and
removed), switched to and from text, and sent as turns (issue 17, Conversations)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from promptstudio.templating import render_messages
from promptstudio.ui.editor.variables_form import VariablesForm

HISTORY = [
    {"role": "user", "content": "It will not switch on."},
    {"role": "assistant", "content": "Is it plugged in?"},
]


def test_a_thread_value_is_edited_as_turns(qtbot) -> None:
    form = VariablesForm()
    qtbot.addWidget(form)
    form.set_names(["history", "question"])
    form.set_values({"history": HISTORY, "question": "Why?"})
    field = form.field("history")
    assert field.as_turns.isChecked() and field.editor.isHidden()
    editor = field.turns_editor
    assert [row.turn() for row in editor.rows] == HISTORY
    assert editor.rows[1].text.accessibleName() == "Text of turn 2"

    # Add a turn: it answers the last one; type into it.
    with qtbot.waitSignal(form.valuesChanged):
        qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.rows[2].role.currentText() == "user"
    qtbot.keyClicks(editor.rows[2].text, "Yes.")
    # Change a role, remove a turn.
    editor.rows[0].role.setCurrentText("system")
    with qtbot.waitSignal(form.valuesChanged):
        qtbot.mouseClick(editor.rows[1].remove, Qt.MouseButton.LeftButton)
    assert form.values()["history"] == [
        {"role": "system", "content": "It will not switch on."},
        {"role": "user", "content": "Yes."},
    ]
    messages = render_messages("{{ history }}\nuser:\n{{ question }}", form.values())
    assert [(m.role, m.content) for m in messages] == [
        ("system", "It will not switch on."),
        ("user", "Yes."),
        ("user", "Why?"),
    ]


def test_any_value_switches_between_turns_and_text(qtbot) -> None:
    form = VariablesForm()
    qtbot.addWidget(form)
    form.set_names(["history"])
    field = form.field("history")
    assert not field.as_turns.isChecked()  # plain text until it holds turns
    qtbot.keyClicks(field.editor, "Hello")
    with qtbot.waitSignal(form.valuesChanged):
        field.as_turns.click()
    assert form.values()["history"] == [{"role": "user", "content": "Hello"}]
    with qtbot.waitSignal(form.valuesChanged):
        field.as_turns.click()
    assert json.loads(field.editor.toPlainText()) == [{"role": "user", "content": "Hello"}]
    assert form.values()["history"] == [{"role": "user", "content": "Hello"}]


def test_the_turns_switch_is_compact_with_a_keyboard_path(qtbot) -> None:
    form = VariablesForm()
    qtbot.addWidget(form)
    form.set_names(["history", "question"])
    form.show()
    field = form.field("history")
    # A plain value has no button on its label row, only the editor's menu entry.
    assert field.as_turns.isHidden()
    action = field.turns_action
    assert action.text() == "Edit as conversation turns" and action.shortcut().toString()
    assert "Ctrl+Shift+T" in field.editor.accessibleDescription()
    field.editor.setFocus()
    qtbot.waitUntil(field.editor.hasFocus)
    qtbot.keyClicks(field.editor, "Hello")
    with qtbot.waitSignal(form.valuesChanged):
        qtbot.keyClick(field.editor, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert form.values()["history"] == [{"role": "user", "content": "Hello"}]
    assert field.as_turns.isVisible() and field.as_turns.isChecked()  # the way back to text
    assert field.as_turns.accessibleName() == "Edit history as conversation turns"
    with qtbot.waitSignal(form.valuesChanged):
        field.as_turns.click()
    assert form.values()["history"] == json.loads(field.editor.toPlainText())
    assert field.as_turns.isHidden() and not action.isChecked()
    # The other field keeps its label row as small as a label.
    other = form.field("question")
    assert other.as_turns.isHidden() and other.label.isVisible()
    menu = field.context_menu()  # what a right-click (or the Menu key) pops up
    assert action in menu.actions()
    menu.close()
