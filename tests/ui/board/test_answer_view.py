"""A streamed answer's view: long paragraphs are cheap to append and show no false breaks."""

from __future__ import annotations

import random

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit

from promptstudio.ui.board.answer_view import PIECE, AnswerView


def visual_lines(view: QPlainTextEdit) -> list[str]:
    """Every line as laid out on screen, paragraph by paragraph."""
    lines: list[str] = []
    document = view.document()
    block = document.firstBlock()
    while block.isValid():
        layout = block.layout()
        if layout.lineCount() == 0:
            document.documentLayout().blockBoundingRect(block)
        text = block.text()
        for number in range(layout.lineCount()):
            line = layout.lineAt(number)
            lines.append(text[line.textStart() : line.textStart() + line.textLength()])
        block = block.next()
    return lines


@pytest.fixture
def views(qtbot) -> tuple[AnswerView, QPlainTextEdit]:
    """The answer view and, for reference, a plain view showing the text as one block."""
    shown, reference = AnswerView(), QPlainTextEdit()
    for view in (shown, reference):
        qtbot.addWidget(view)
        view.resize(420, 300)
        view.show()
    qtbot.waitExposed(shown)
    return shown, reference


def stream(view: AnswerView, text: str, seed: int = 7) -> None:
    rng = random.Random(seed)
    position = 0
    while position < len(text):
        step = rng.randint(1, 300)
        view.append_text(text[position : position + step])
        position += step


def words(count: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    return " ".join("w" * rng.randint(1, 12) + str(n) for n in range(count))


def test_a_long_answer_without_a_newline_shows_as_one_paragraph(views, qtbot) -> None:
    shown, reference = views
    answer = words(1400)[:10_000]
    assert len(answer) == 10_000 and "\n" not in answer
    stream(shown, answer)
    reference.setPlainText(answer)
    assert shown.toPlainText() == answer
    assert shown.paragraphs() == 1
    assert shown.document().blockCount() > 1  # kept in pieces: appends stay cheap
    # ...cut where the lines end anyway: line for line what the whole paragraph shows
    qtbot.waitUntil(lambda: visual_lines(shown) == visual_lines(reference), timeout=3000)
    shown.selectAll()
    shown.copy()
    assert QGuiApplication.clipboard().text() == answer  # a copied selection is exact


def test_the_pieces_are_cut_again_when_the_width_changes(views, qtbot) -> None:
    shown, reference = views
    answer = words(3000)
    stream(shown, answer)
    reference.setPlainText(answer)
    for width in (300, 640):
        shown.resize(width, 300)
        reference.resize(width, 300)
        qtbot.waitUntil(lambda: visual_lines(shown) == visual_lines(reference), timeout=3000)
        assert shown.toPlainText() == answer


def test_no_piece_grows_past_its_size_however_the_text_arrives(views) -> None:
    shown, _reference = views
    answer = words(20_000)  # ~150k characters in one paragraph
    shown.append_text(answer[:90_000])  # one big flush
    stream(shown, answer[90_000:])
    lengths = []
    block = shown.document().firstBlock()
    while block.isValid():
        lengths.append(block.length())
        block = block.next()
    assert max(lengths) <= PIECE + 300  # at most one flush over
    assert shown.toPlainText() == answer


def test_real_line_breaks_and_unwrapped_text_stay_exact(views, qtbot) -> None:
    shown, _reference = views
    answer = "first line\n\n" + words(900) + "\nlast " + words(600, seed=5) + "\n"
    stream(shown, answer)
    assert shown.toPlainText() == answer
    assert shown.paragraphs() == answer.count("\n") + 1
    shown.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    qtbot.waitUntil(lambda: not shown._reflow.isActive())
    assert shown.toPlainText() == answer
    shown.set_text("")
    assert shown.toPlainText() == "" and shown.paragraphs() == 1
