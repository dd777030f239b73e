"""The side-by-side diff widget: alignment, highlights, scrolling together, navigation."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from promptstudio import diffing
from promptstudio.ui.history.diff_view import (
    DELETED,
    FILLER,
    INSERTED,
    REPLACED,
    WORD_INSERTED,
    WORD_REMOVED,
    DiffEditor,
    DiffView,
)

ARGB = QColor.NameFormat.HexArgb
OLD = "system:\nYou are a helpful assistant.\nAnswer in a friendly tone.\nuser:\n{{ question }}"
NEW = (
    "system:\nYou are a helpful assistant.\nAnswer in a formal tone.\nCite sources.\n"
    "user:\n{{ question }}"
)


@pytest.fixture
def view(qtbot) -> DiffView:
    widget = DiffView()
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    return widget


def _highlights(editor: DiffEditor) -> list[tuple[int, int, str]]:
    """Every run of text with a background colour: (start, end, colour name with alpha)."""
    runs = []
    block = editor.document().firstBlock()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            background = fragment.charFormat().background()
            if background.style() != Qt.BrushStyle.NoBrush:
                start = fragment.position()
                runs.append((start, start + fragment.length(), background.color().name(ARGB)))
            fragments += 1
        block = block.next()
    return runs


def _text_at(editor: DiffEditor, start: int, end: int) -> str:
    cursor = QTextCursor(editor.document())
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText()


def _long_texts() -> tuple[str, str]:
    """200 lines with three separate changes: a replace, an insert, a delete."""
    old = [f"line {n}" for n in range(200)]
    new = old.copy()
    new[20] = "line twenty"
    new.insert(100, "an inserted line")
    del new[161]  # old line 160
    return "\n".join(old), "\n".join(new)


def test_rows_stay_aligned_with_filler_lines(view: DiffView) -> None:
    view.show_diff(OLD, NEW)
    assert view.left.blockCount() == view.right.blockCount() == 6
    assert view.left.numbers == [1, 2, 3, None, 4, 5]  # a filler opposite "Cite sources."
    assert view.right.numbers == [1, 2, 3, 4, 5, 6]
    assert view.left.document().findBlockByNumber(3).text() == ""
    assert view.right.document().findBlockByNumber(3).text() == "Cite sources."
    assert view.left.row_brushes == [None, None, REPLACED, FILLER, None, None]
    assert view.right.row_brushes == [None, None, REPLACED, INSERTED, None, None]


def test_a_deleted_line_is_red_on_the_left_and_a_filler_on_the_right(view: DiffView) -> None:
    view.show_diff("a\nb\nc", "a\nc")
    assert view.left.row_brushes == [None, DELETED, None]
    assert view.right.row_brushes == [None, FILLER, None]
    assert view.right.numbers == [1, None, 2]
    assert view.left.blockCount() == view.right.blockCount() == 3


def test_the_changed_word_carries_the_highlight(view: DiffView) -> None:
    view.show_diff(OLD, NEW)
    (removed,) = _highlights(view.left)
    (inserted,) = _highlights(view.right)
    assert _text_at(view.left, removed[0], removed[1]) == "friendly"
    assert _text_at(view.right, inserted[0], inserted[1]) == "formal"
    line_start = view.left.document().findBlockByNumber(2).position()
    assert removed[:2] == (line_start + 12, line_start + 20)
    assert removed[2] == WORD_REMOVED.name(ARGB)
    assert inserted[2] == WORD_INSERTED.name(ARGB)
    # the char format at a cursor inside the word says the same
    cursor = QTextCursor(view.left.document())
    cursor.setPosition(line_start + 13)
    assert cursor.charFormat().background().color() == WORD_REMOVED
    cursor.setPosition(line_start + 11)  # the space before it: unmarked
    assert cursor.charFormat().background().style() == Qt.BrushStyle.NoBrush


def test_highlights_after_an_emoji_land_on_the_word(view: DiffView) -> None:
    """Python counts an emoji as one character, Qt as two UTF-16 units."""
    view.show_diff("Reply 👍 in a friendly tone", "Reply 👍 in a formal tone")
    ((start, end, _),) = _highlights(view.left)
    assert _text_at(view.left, start, end) == "friendly"


def test_scrolling_one_side_scrolls_the_other(view: DiffView, qtbot) -> None:
    view.show_diff(*_long_texts())
    view.show()
    qtbot.waitExposed(view)
    left, right = view.left.verticalScrollBar(), view.right.verticalScrollBar()
    assert left.maximum() == right.maximum() > 50
    left.setValue(50)
    assert right.value() == 50
    right.setValue(120)
    assert left.value() == 120
    assert view.left.firstVisibleBlock().blockNumber() == 120
    assert view.right.firstVisibleBlock().blockNumber() == 120


def test_word_mode_scrolls_proportionally(view: DiffView, qtbot) -> None:
    view.show_words("\n".join(["word"] * 300), "\n".join(["word"] * 150))
    view.show()
    qtbot.waitExposed(view)
    left, right = view.left.verticalScrollBar(), view.right.verticalScrollBar()
    left.setValue(left.maximum())
    assert right.value() == right.maximum() > 0
    left.setValue(left.maximum() // 2)
    assert abs(right.value() - right.maximum() // 2) <= 1


def test_next_and_previous_change_move_to_changed_rows(view: DiffView) -> None:
    view.show_diff(*_long_texts())
    assert view.changes() == 3
    assert view.current_change() == -1
    rows = []
    for _ in range(4):
        view.next_change()
        rows.append(view.left.textCursor().blockNumber())
        assert view.right.textCursor().blockNumber() == rows[-1]
    assert rows == [20, 100, 161, 20]  # wraps around; row 100 is the inserted line
    assert view.current_change() == 0
    assert view.right.textCursor().block().text() == "line twenty"
    assert view.left.marked == range(20, 21)
    view.previous_change()
    assert view.current_change() == 2
    assert view.left.textCursor().block().text() == "line 160"
    view.previous_change()
    assert view.current_change() == 1
    assert view.right.textCursor().block().text() == "an inserted line"


def test_next_change_starts_from_where_the_user_clicked(view: DiffView) -> None:
    view.show_diff(*_long_texts())
    cursor = view.right.textCursor()
    cursor.setPosition(view.right.document().findBlockByNumber(130).position())
    view.right.setTextCursor(cursor)
    view.next_change()
    assert view.current_change() == 2
    view.right.setTextCursor(cursor)
    view.previous_change()
    assert view.current_change() == 1


def test_f7_and_shift_f7_walk_the_changes(view: DiffView, qtbot) -> None:
    view.show_diff(*_long_texts())
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.left.setFocus()
    qtbot.waitUntil(view.left.hasFocus)
    qtbot.keyClick(view.left, Qt.Key.Key_F7)
    assert view.current_change() == 0
    qtbot.keyClick(view.left, Qt.Key.Key_F7)
    assert view.current_change() == 1
    qtbot.keyClick(view.right, Qt.Key.Key_F7, Qt.KeyboardModifier.ShiftModifier)
    assert view.current_change() == 0


def test_buttons_walk_the_changes_and_are_off_without_changes(view: DiffView, qtbot) -> None:
    view.show_diff(*_long_texts())
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.current_change() == 1
    qtbot.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    assert view.current_change() == 0
    view.show_diff("same", "same")
    assert view.changes() == 0 and view.current_change() == -1
    assert not view.next_button.isEnabled() and not view.previous_button.isEnabled()
    view.next_change()  # harmless
    assert view.current_change() == -1


def test_summary_counts_lines(view: DiffView) -> None:
    view.show_diff("a\nb\nc\nd", "a\nB\nd\ne\nf")
    assert view.summary.text() == "+2 −1 ~1 lines"
    view.show_diff(OLD, OLD)
    assert view.summary.text() == "No differences"
    assert view.note.isHidden()


def test_titles(view: DiffView) -> None:
    view.set_titles("v5", "v7")
    assert (view.left_title.text(), view.right_title.text()) == ("v5", "v7")


def test_word_mode_highlights_exactly_the_changed_words(view: DiffView) -> None:
    old = "Paris is the capital of France. It has about 2.1 million people."
    new = "Paris is the capital of France. It has roughly 2.1 million inhabitants."
    view.show_words(old, new)
    assert view.left.lineWrapMode() == view.left.LineWrapMode.WidgetWidth
    assert [_text_at(view.left, s, e) for s, e, _ in _highlights(view.left)] == [
        "about",
        "people",
    ]
    assert [_text_at(view.right, s, e) for s, e, _ in _highlights(view.right)] == [
        "roughly",
        "inhabitants",
    ]
    assert view.summary.text() == "93% similar · 2 changes"
    assert view.changes() == 2
    view.next_change()
    view.next_change()
    assert view.left.textCursor().selectedText() == "people"
    assert view.right.textCursor().selectedText() == "inhabitants"


def test_word_mode_after_line_mode_has_no_row_colours(view: DiffView) -> None:
    view.show_diff(OLD, NEW)
    view.show_words("one two", "one three")
    assert view.left.row_brushes == view.right.row_brushes == []
    assert view.left.blockCount() == 1


def test_a_coarse_diff_says_so(view: DiffView, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diffing, "LINE_LEVEL_LINES", 2)
    view.show_diff("a b\nc d\ne", "a x\nc y\ne")
    assert not view.note.isHidden()
    assert "not highlighted" in view.note.text()
    assert _highlights(view.left) == []


def test_paragraph_separators_do_not_break_alignment(view: DiffView) -> None:
    view.show_diff("a\u2029b\nc", "a\u2029b\nC")
    assert view.left.blockCount() == view.right.blockCount() == 2


def test_a_highlight_does_not_leak_into_the_next_comparison(qtbot) -> None:
    view = DiffView()
    qtbot.addWidget(view)
    view.show_words("", "an answer that ends highlighted")
    view.show_words("same text here", "same text here")
    assert view.changes() == 0
    cursor = view.right.textCursor()
    cursor.setPosition(2)
    assert cursor.charFormat().background().style() == Qt.BrushStyle.NoBrush
