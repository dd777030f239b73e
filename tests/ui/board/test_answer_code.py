"""Code in answers is coloured with Pygments (issue 15): a fenced block in the text of an
answer (in its column, pinned beside the board, and in History), the closed blocks of the
Markdown view and the JSON view; a block is lexed once, when its closing fence is in, never
per streamed delta."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QTextBlock, QTextDocument
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from promptstudio.ui.board.answer_pane import AnswerPane
from promptstudio.ui.board.answer_view import AnswerView
from promptstudio.ui.board.pinned_answers import PinnedAnswers
from promptstudio.ui.board.run_column import RunColumn
from promptstudio.ui.code_fences import FenceScanner
from promptstudio.ui.editor import code_highlighter
from promptstudio.ui.editor.code_highlighter import CODE_LANGUAGE
from promptstudio.ui.history.history_pane import RUNS_TAB
from promptstudio.ui.main_window import MainWindow
from promptstudio.ui.theme import _dark_palette
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt

SHOTS = Path("/tmp")
CODE = ["import os", "print('hi')  # greet", "x = 42"]
ANSWER = "Here it is:\n```python\n" + "\n".join(CODE) + "\n```\nThat prints hi.\n`x` is 42."


def coloured(document: QTextDocument) -> dict[str, list[str]]:
    """Each line that has colours, with the colours of its spans."""
    found: dict[str, list[str]] = {}
    block: QTextBlock = document.firstBlock()
    while block.isValid():
        spans = block.layout().formats()
        if spans:
            found[block.text()] = [span.format.foreground().color().name() for span in spans]
        block = block.next()
    return found


def fixed_pitch(document: QTextDocument) -> set[str]:
    """The lines set in the fixed-pitch font from start to end."""
    found: set[str] = set()
    block: QTextBlock = document.firstBlock()
    while block.isValid():
        spans = block.layout().formats()
        covered = sum(span.length for span in spans if span.format.fontFixedPitch())
        if block.text() and covered == len(block.text()):
            found.add(block.text())
        block = block.next()
    return found


def counting_lexer(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The languages of the lines lexed from now on, one entry a line."""
    lexed: list[str] = []
    real: Callable[[str], Any] = code_highlighter._lexer

    def lexer(language: str) -> Any:
        lexed.append(language)
        return real(language)

    monkeypatch.setattr(code_highlighter, "_lexer", lexer)
    return lexed


def run(window: MainWindow, qtbot) -> None:
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()


def first_column(window: MainWindow, qtbot, fake_llm: FakeLLM) -> RunColumn:
    new_prompt(qtbot, window)
    window.editor.setPlainText("Show me.")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    return column


def test_a_finished_answer_colours_its_python_block_only(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    column = first_column(window, qtbot, fake_llm)
    fake_llm.script(Reply(text=ANSWER, tokens_per_second=400))
    run(window, qtbot)
    assert column.output.toPlainText() == ANSWER
    qtbot.waitUntil(lambda: set(coloured(column.output.document())) == set(CODE), timeout=3000)
    colours = coloured(column.output.document())
    keyword, string, comment = colours[CODE[0]][0], colours[CODE[1]][1], colours[CODE[1]][-1]
    assert len({keyword, string, comment}) == 3
    assert fixed_pitch(column.output.document()) == set(CODE)  # code in the code font, only
    window.resize(1400, 900)
    window.grab().save(str(SHOTS / "answer_code_light.png"))

    # The same answer in History's Runs tab.
    window.registry["view.history"].trigger()
    history = window.history
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=5000)
    with qtbot.waitSignal(history.runsShown, timeout=5000):
        history.tabs.setCurrentIndex(RUNS_TAB)
    qtbot.waitUntil(lambda: history.answer.toPlainText() == ANSWER, timeout=5000)
    qtbot.waitUntil(lambda: set(coloured(history.answer.document())) == set(CODE), timeout=3000)


def test_the_json_and_markdown_views_are_coloured(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    column = first_column(window, qtbot, fake_llm)
    column.view_mode.setCurrentText("JSON")
    fake_llm.script(Reply(text='{"name": "Ada", "born": 1815, "tags": ["maths"]}'))
    run(window, qtbot)
    rendered = column.answer.rendered
    assert '"name": "Ada"' in rendered.toPlainText()
    colours = coloured(rendered.document())
    key, value = colours['  "name": "Ada",']
    assert key != value  # a key and a string value in their own colours
    assert '  "born": 1815,' in colours

    fake_llm.script(Reply(text=ANSWER))
    column.view_mode.setCurrentText("Markdown")
    run(window, qtbot)
    qtbot.waitUntil(lambda: "That prints hi." in rendered.toPlainText(), timeout=3000)
    assert set(coloured(rendered.document())) == set(CODE)


def test_a_streaming_answer_lexes_each_code_line_once_when_its_block_closes(
    qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = AnswerView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    lexed = counting_lexer(monkeypatch)
    opened, closing = ANSWER.index("```python"), ANSWER.index("```\nThat")
    for position in range(0, closing):  # one character a delta, up to the closing fence
        view.append_text(ANSWER[position])
    assert position > opened
    assert lexed == [] and coloured(view.document()) == {}  # an open block: nothing lexed
    for position in range(closing, len(ANSWER)):
        view.append_text(ANSWER[position])
    qtbot.waitUntil(lambda: set(coloured(view.document())) == set(CODE), timeout=3000)
    for word in " More prose after the code.":
        view.append_text(word)
    assert set(coloured(view.document())) == set(CODE)
    assert lexed == ["python"] * len(CODE)  # once a line, not once a delta


def test_an_answer_ending_on_its_closing_fence_is_coloured(qtbot) -> None:
    view = AnswerView()
    qtbot.addWidget(view)
    view.set_text("```py\nimport os\n```")  # no line break after the fence
    qtbot.waitUntil(lambda: set(coloured(view.document())) == {"import os"}, timeout=3000)
    view.set_text("```py\nimport os\n")  # never closed: stays plain
    assert coloured(view.document()) == {}


def test_a_pinned_answer_colours_its_code_in_the_code_font(qtbot) -> None:
    pins = PinnedAnswers()
    qtbot.addWidget(pins)
    pins.add_pin(None, "m", "model m", ANSWER)
    view = pins.widget(0)
    assert isinstance(view, QPlainTextEdit)
    qtbot.waitUntil(lambda: set(coloured(view.document())) == set(CODE), timeout=3000)
    assert fixed_pitch(view.document()) == set(CODE)


def test_a_long_code_line_in_pieces_is_marked_whole(qtbot) -> None:
    view = AnswerView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    long_line = "values = [" + ", ".join(str(n) for n in range(2000)) + "]"
    text = "A long one:\n```python\n" + long_line + "\nprint(values)\n```\nDone."
    for start in range(0, len(text), 97):
        view.append_text(text[start : start + 97])
    assert view.toPlainText() == text
    assert view.document().blockCount() > len(text.splitlines())  # the long line is in pieces
    marked, block = [], view.document().firstBlock()
    while block.isValid():
        if block.blockFormat().stringProperty(CODE_LANGUAGE) == "python":
            marked.append(block.text())
        block = block.next()
    assert "".join(marked[:-1]) == long_line and marked[-1] == "print(values)"


def test_the_markdown_view_leaves_a_block_still_streaming_plain(qtbot, monkeypatch) -> None:
    pane = AnswerPane()
    qtbot.addWidget(pane)
    pane.view_mode.setCurrentText("Markdown")
    lexed = counting_lexer(monkeypatch)
    pane.show_rendered(ANSWER[: ANSWER.index("```\nThat")], None)
    assert lexed == [] and coloured(pane.rendered.document()) == {}
    pane.show_rendered(ANSWER, None)
    assert set(coloured(pane.rendered.document())) == set(CODE)


def test_colours_follow_the_theme(qtbot, qapp: QApplication) -> None:
    view = AnswerView()
    qtbot.addWidget(view)
    view.resize(500, 200)
    view.set_text(ANSWER)
    qtbot.waitUntil(lambda: CODE[1] in coloured(view.document()), timeout=3000)
    light = coloured(view.document())[CODE[1]]
    view.setPalette(_dark_palette())
    qtbot.waitUntil(lambda: coloured(view.document())[CODE[1]] != light, timeout=3000)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("~~~~ rust extra\nfn main() {}\n~~~\nstill code\n~~~~\n", [(1, 3, "rust")]),
        ("   ```js\nlet a\n```\n    ```js\n", [(1, 1, "js")]),  # 4 spaces: no fence
        ("```\nplain\n```\n``` a`b\nnot a fence\n", []),  # no language; a backtick in info
        ("```Python\r\nx = 1\r\n```\r\n", [(1, 1, "python")]),
    ],
)
def test_fences_are_found_as_commonmark_has_them(
    text: str, code: list[tuple[int, int, str]]
) -> None:
    scanner = FenceScanner()
    found = scanner.feed(text)
    assert [(lines.first, lines.last, lines.language) for lines in found] == code
