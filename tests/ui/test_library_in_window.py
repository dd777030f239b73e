"""The library in the main window: quick open, search hits, trashing the open prompt."""

from __future__ import annotations

from PySide6.QtCore import Qt

from promptstudio.storage import library
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt


def test_quick_open_opens_a_prompt_by_a_few_letters(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    target = next(pid for pid, name in window.workspace.known.items() if name.startswith("Invoice"))
    with qtbot.waitSignal(window.registry["prompt.quick_open"].triggered, timeout=1000):
        window.registry["prompt.quick_open"].trigger()
    dialog = window.quick_open
    assert dialog is not None
    qtbot.waitUntil(lambda: len(dialog.visible_names()) == 4, timeout=5000)
    qtbot.keyClicks(dialog.filter, "invjson")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert opened.args[0] == target


def test_trashing_the_open_prompt_keeps_its_edits_and_opens_another(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    doomed = new_prompt(qtbot, window)
    window.editor.setPlainText("unsaved words")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        window.registry["prompt.trash"].trigger()
    assert opened.args[0] != doomed
    assert doomed not in window.workspace.known
    assert window.workspace.db.call(library.load_draft, doomed).template == "unsaved words"
    assert doomed in {p.id for p in window.workspace.db.call(library.list_trash)}


def test_a_search_hit_in_an_answer_opens_its_version(window, qtbot, fake_llm) -> None:  # type: ignore[no-untyped-def]
    fake_llm.script(Reply(text="the zebracorn answer"))
    prompt_id = new_prompt(qtbot, window)
    window.editor.setPlainText("Tell me about striped unicorns")
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    window.editor.setPlainText("something else entirely")
    pane = window.library
    with qtbot.waitSignal(pane.results.hitsShown, timeout=5000):
        pane.focus_search()
        qtbot.keyClicks(pane.search, "zebracorn")
    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "open-version"):  # fmt: skip
        pane.results.open_index(pane.results.list.model().index(0, 0))
    assert window.workspace.prompt_id == prompt_id
    assert window.editor.toPlainText() == "Tell me about striped unicorns"


def test_restoring_from_the_trash_opens_what_the_tree_highlights(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    doomed = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        window.registry["prompt.trash"].trigger()
    other = opened.args[0]
    assert other != doomed
    qtbot.waitUntil(lambda: window.library.current_prompt_id() == other, timeout=5000)
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        window.library.restore(doomed)
    assert opened.args[0] == doomed
    qtbot.waitUntil(lambda: window.library.current_prompt_id() == doomed, timeout=5000)
    assert window.workspace.prompt_id == doomed
