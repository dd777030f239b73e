"""The export preview colours code, JSON and YAML with Pygments, line by line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QTextBlock
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from promptstudio.exchange import PromptDocument
from promptstudio.exchange.document import columns_from_dicts
from promptstudio.ui.editor.code_highlighter import LINE_LIMIT, CodeHighlighter
from promptstudio.ui.export_dialog import ExportDialog
from promptstudio.ui.tasks import TaskOwner
from promptstudio.ui.theme import _dark_palette
from tests.ui.conftest import owned_widget

SHOTS = Path("/tmp")
DOC = PromptDocument(
    name="Greeting",
    template="system:\nBe brief.\nuser:\nSay {{ word }}",
    columns=columns_from_dicts([{"model": "gpt-4o", "params": {"temperature": 0.2}}]),
)


async def _no_library(_history: bool) -> list[PromptDocument]:
    return []


@pytest.fixture
def dialog(qtbot, qloop) -> Iterator[ExportDialog]:
    def make(tasks: TaskOwner) -> ExportDialog:
        return ExportDialog(DOC, {"word": "hi"}, _no_library, tasks)

    with owned_widget(qtbot, make) as made:
        made.show()
        yield made


def _block(edit: QPlainTextEdit, starts_with: str) -> QTextBlock:
    block = edit.document().begin()
    while block.isValid():
        if block.text().lstrip().startswith(starts_with):
            return block
        block = block.next()
    raise AssertionError(f"no line starts with {starts_with!r}")


def _colour_at(block: QTextBlock, column: int) -> str | None:
    for span in block.layout().formats():
        if span.start <= column < span.start + span.length:
            return str(span.format.foreground().color().name())
    return None


def _shown(qtbot, dialog: ExportDialog, key: str, needle: str) -> None:
    dialog.choose(key)
    qtbot.waitUntil(lambda: needle in dialog.preview.toPlainText(), timeout=5000)


def test_a_python_export_colours_keywords_and_strings_differently(dialog, qtbot) -> None:
    _shown(qtbot, dialog, "python-openai", "from openai import OpenAI")
    line = _block(dialog.preview, "from openai import OpenAI")
    keyword = _colour_at(line, line.text().index("from"))
    name = _colour_at(line, line.text().index("openai"))
    model = _block(dialog.preview, "model=")
    string = _colour_at(model, model.text().index("'gpt-4o'") + 1)
    assert keyword is not None and string is not None
    assert keyword != string
    assert name is None  # a plain name keeps the text colour


def test_json_and_yaml_are_coloured_in_their_own_language(dialog, qtbot) -> None:
    _shown(qtbot, dialog, "json", '"name": "Greeting"')
    line = _block(dialog.preview, '"name"')
    key = _colour_at(line, line.text().index('"name"'))
    value = _colour_at(line, line.text().index('"Greeting"'))
    assert key is not None and value is not None and key != value
    _shown(qtbot, dialog, "promptfoo", "description: Greeting")
    assert dialog.highlighter.language == "yaml"
    comment = _block(dialog.preview, "# promptfoo config")
    assert _colour_at(comment, 0) is not None


def test_the_library_note_is_plain_text(dialog, qtbot) -> None:
    dialog.choose("json", scope="library")
    qtbot.waitUntil(lambda: "Every prompt" in dialog.preview.toPlainText(), timeout=5000)
    assert dialog.highlighter.language is None
    assert _block(dialog.preview, "Every prompt").layout().formats() == []


def test_only_the_start_of_a_very_long_line_is_lexed(qtbot) -> None:
    edit = QPlainTextEdit()
    qtbot.addWidget(edit)
    highlighter = CodeHighlighter(edit, "python")
    edit.setPlainText("x = " + "'a', " * (LINE_LIMIT // 2))
    spans = edit.document().begin().layout().formats()
    assert spans and max(s.start + s.length for s in spans) <= LINE_LIMIT
    assert highlighter.language == "python"


def test_colours_follow_a_dark_palette(dialog, qtbot, qapp: QApplication) -> None:
    _shown(qtbot, dialog, "python-openai", "from openai import OpenAI")
    light = _colour_at(_block(dialog.preview, "from openai"), 0)
    previous = qapp.palette()
    qapp.setPalette(_dark_palette())  # reaches existing widgets through posted events
    try:
        qtbot.waitUntil(lambda: _colour_at(_block(dialog.preview, "from openai"), 0) != light)
        assert dialog.grab().save(str(SHOTS / "export_preview_dark.png"))
    finally:
        qapp.setPalette(previous)
    qtbot.waitUntil(lambda: _colour_at(_block(dialog.preview, "from openai"), 0) == light)
    assert dialog.grab().save(str(SHOTS / "export_preview.png"))
