"""The library in the main window: quick open, search hits, trashing the open prompt."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from promptstudio.storage import library
from promptstudio.ui.library.library_model import NODE_KIND_ROLE, PROMPT_ID_ROLE, NodeKind
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt


def test_quick_open_opens_a_prompt_by_a_few_letters(window, qtbot) -> None:
    target = next(pid for pid, name in window.workspace.known.items() if name.startswith("Invoice"))
    with qtbot.waitSignal(window.registry["prompt.quick_open"].triggered, timeout=1000):
        window.registry["prompt.quick_open"].trigger()
    dialog = window.dialogs.quick_open
    assert dialog is not None
    qtbot.waitUntil(lambda: len(dialog.visible_names()) == 4, timeout=5000)
    qtbot.keyClicks(dialog.filter, "invjson")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert opened.args[0] == target


def test_trashing_the_open_prompt_keeps_its_edits_and_opens_another(window, qtbot) -> None:
    doomed = new_prompt(qtbot, window)
    window.editor.setPlainText("unsaved words")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        window.registry["prompt.trash"].trigger()
    assert opened.args[0] != doomed
    assert doomed not in window.workspace.known
    assert window.workspace.db.call(library.load_draft, doomed).template == "unsaved words"
    assert doomed in {p.id for p in window.workspace.db.call(library.list_trash)}


def test_a_search_hit_in_an_answer_opens_in_history_and_asks_before_the_editor(
    window, qtbot, fake_llm
) -> None:
    """Issue 14, point 25: a click previews and changes nothing; Enter shows the version
    and answer that matched in History; "Open in editor" asks before replacing edits."""
    fake_llm.script(Reply(text="the zebracorn answer"), times=1)
    fake_llm.script(Reply(text="a newer zebracorn answer"), times=1)
    prompt_id = new_prompt(qtbot, window)
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    for text in ("Tell me about striped unicorns", "Tell me about striped horses"):
        window.editor.setPlainText(text)
        with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
            window.registry["run.run"].trigger()
    old_version, new_version = sorted(
        v.id for v in window.workspace.db.call(library.version_history, prompt_id, limit=10)
    )
    window.editor.setPlainText("something else entirely")
    pane = window.library
    with qtbot.waitSignal(pane.results.hitsShown, timeout=5000) as shown:
        pane.focus_search()
        qtbot.keyClicks(pane.search, "zebracorn")
    assert shown.args[0] == 2  # each answer is a hit
    results = pane.results
    qtbot.keyClick(pane.search, Qt.Key.Key_Down)
    qtbot.keyClick(results.list, Qt.Key.Key_Down)  # the older answer: previewed only
    qtbot.waitUntil(lambda: results.preview.toPlainText() == "the zebracorn answer")
    assert window.editor.toPlainText() == "something else entirely"
    hit = results.current_hit()
    assert hit is not None and hit.version_id == old_version
    qtbot.keyClick(results.list, Qt.Key.Key_Return)
    history = window.history

    def shown_answer() -> int | None:
        answer = history.runs_model.response(history.runs_tree.currentIndex())
        return answer.id if answer is not None else None

    qtbot.waitUntil(lambda: shown_answer() == hit.response_id, timeout=5000)
    assert window.bottom_tabs.currentWidget() is history
    assert [v.id for v in history.selected_versions()] == [old_version]
    assert window.editor.toPlainText() == "something else entirely"  # nothing replaced

    results.editor_button.click()
    qtbot.waitUntil(lambda: window.workspace.replace_question is not None, timeout=5000)
    question = window.workspace.replace_question
    assert question is not None and question.isVisible()
    question.button(QMessageBox.StandardButton.Cancel).click()
    assert window.editor.toPlainText() == "something else entirely"
    with qtbot.waitSignal(window.workspace.versionsChanged, timeout=5000):
        results.editor_button.click()
        qtbot.waitUntil(
            lambda: (
                window.workspace.replace_question is not question
                and window.workspace.replace_question is not None
            ),
            timeout=5000,
        )
        window.workspace.replace_question.button(QMessageBox.StandardButton.Open).click()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == "Tell me about striped unicorns")
    kept = window.workspace.db.call(library.latest_version, prompt_id)
    assert kept.template == "something else entirely"  # the edits became a version first
    assert [v.id for v in window.history.selected_versions()] == [old_version]
    assert new_version != old_version


def _highlighted(window) -> int | None:
    """The prompt current in the library tree (not a folder, not one in the trash)."""
    index = window.library.tree.currentIndex()
    if index.isValid() and index.data(NODE_KIND_ROLE) == NodeKind.PROMPT:
        return int(index.data(PROMPT_ID_ROLE))
    return None


def test_restoring_from_the_trash_opens_what_the_tree_highlights(window, qtbot) -> None:
    doomed = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        window.registry["prompt.trash"].trigger()
    other = opened.args[0]
    assert other != doomed
    qtbot.waitUntil(lambda: _highlighted(window) == other, timeout=5000)
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        window.library.tree_actions.restore(doomed)
    assert opened.args[0] == doomed
    qtbot.waitUntil(lambda: _highlighted(window) == doomed, timeout=5000)
    assert window.workspace.prompt_id == doomed
