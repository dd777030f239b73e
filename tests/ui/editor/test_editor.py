"""The template editor: highlighting, find and replace, undo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat

from tests.ui.conftest import new_prompt


def _formats_at(editor, line: int, column: int):
    block = editor.document().findBlockByNumber(line)
    ranges = block.layout().formats()
    for fmt_range in ranges:
        if fmt_range.start <= column < fmt_range.start + fmt_range.length:
            return QTextCharFormat(fmt_range.format)  # a copy: the list owns the original
    return None


def test_variables_tags_and_role_markers_are_coloured(window, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(
            "system:\nHi {{ name | upper }} {# note #}\n{% if x %}y{% endif %}"
        )
    colours = window.editor.highlighter.formats
    role = _formats_at(window.editor, 0, 0)
    assert role is not None and role.foreground().color() == colours["role"].foreground().color()
    name = _formats_at(window.editor, 1, 6)  # "name"
    assert (
        name is not None and name.foreground().color() == colours["variable"].foreground().color()
    )
    upper = _formats_at(window.editor, 1, 13)  # "upper" after "|"
    assert (
        upper is not None
        and upper.foreground().color() == colours["attribute"].foreground().color()
    )
    comment = _formats_at(window.editor, 1, 25)
    assert comment is not None and comment.fontItalic()
    keyword = _formats_at(window.editor, 2, 3)  # "if"
    assert keyword is not None and keyword.foreground().color() == QColor("#a626a4")


def test_a_marker_after_a_statement_tag_is_coloured_as_a_role(window, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("{% for e in xs %}user:\n{{ e }}\n{% endfor %}user: hi")
    role_colour = window.editor.highlighter.formats["role"].foreground().color()
    marker = _formats_at(window.editor, 0, 18)  # "user" after the tag
    assert marker is not None and marker.foreground().color() == role_colour
    text = _formats_at(window.editor, 2, 13)  # "user: hi" is text, not a marker
    assert text is None or text.foreground().color() != role_colour


def test_multiline_tag_state_carries_across_blocks(window, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("{{\n  name\n}} plain")
    inside = _formats_at(window.editor, 1, 2)
    assert inside is not None
    assert (
        inside.foreground().color()
        == window.editor.highlighter.formats["variable"].foreground().color()
    )
    assert _formats_at(window.editor, 2, 5) is None  # "plain" is ordinary text


def test_find_and_replace_all_is_one_undo_step(window, qtbot) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("cat dog cat bird cat")
    window.editor.setFocus()
    window.registry["edit.replace"].trigger()
    assert window.find_bar.isVisible()
    qtbot.keyClicks(window.find_bar.find_field, "cat")
    window.find_bar.replace_field.setText("fox")
    assert window.find_bar.replace_all() == 3
    assert window.editor.toPlainText() == "fox dog fox bird fox"
    window.editor.undo()
    assert window.editor.toPlainText() == "cat dog cat bird cat"
    qtbot.keyClick(window.find_bar.find_field, Qt.Key.Key_Escape)
    assert not window.find_bar.isVisible()


def test_find_wraps_around_and_reports_no_match(window, qtbot) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("alpha beta alpha")
    window.registry["edit.find"].trigger()
    qtbot.keyClicks(window.find_bar.find_field, "alpha")
    first = window.editor.textCursor().selectionStart()
    assert window.find_bar.find_next()
    second = window.editor.textCursor().selectionStart()
    assert window.find_bar.find_next()
    assert {first, second} == {0, 11}
    assert window.editor.textCursor().selectionStart() == first  # wrapped
    window.find_bar.find_field.setText("gamma")
    assert window.find_bar.status.text() == "No matches"


def test_undo_redo_actions_work_from_outside_the_editor(window, qtbot) -> None:
    new_prompt(qtbot, window)
    window.editor.setFocus()
    qtbot.keyClicks(window.editor, "abc")
    window.run_board.columns[0].model.setFocus()
    window.registry["edit.undo"].trigger()
    assert window.editor.toPlainText() == ""
    window.registry["edit.redo"].trigger()
    assert window.editor.toPlainText() == "abc"
