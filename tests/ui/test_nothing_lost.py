"""Issue 14, "nothing lost": the editor comes back with what the user last had, and the
status bar names versions as History does."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from promptstudio.chat import Message
from promptstudio.credentials import KeyStore
from promptstudio.providers import Endpoint
from promptstudio.runs import RunTarget, TargetResult, TargetStatus
from promptstudio.runs.checkpoint import ResponseCheckpoints
from promptstudio.storage import library
from promptstudio.ui.app import open_library
from promptstudio.ui.history.history_pane import RUNS_TAB
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt, type_text


def _fire_draft_timer(window, qtbot) -> None:
    """What the 1.5 s draft timer does when it fires, now (no sleeping in tests)."""
    ws = window.workspace
    assert ws.drafts.timer.isActive(), "the edit should have armed the draft timer"
    ws.drafts.timer.stop()
    with qtbot.waitSignal(ws.draftSaved, timeout=5000):
        ws.drafts.save_soon()


def _open(window, qtbot, prompt_id: int) -> None:
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000):
        window.library.select_prompt(prompt_id)
        window.workspace.open_prompt(prompt_id)


def test_a_stale_draft_never_replaces_a_newer_run(
    window, qtbot, fake_llm, isolated_home: Path
) -> None:
    ws = window.workspace
    other = new_prompt(qtbot, window)
    prompt_id = new_prompt(qtbot, window)
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "model-a")
    type_text(qtbot, window.editor, "EDIT-A")
    _fire_draft_timer(window, qtbot)  # "wait 4 s": the draft holds EDIT-A and model-a
    assert ws.db.call(library.load_draft, prompt_id).template == "EDIT-A"

    type_text(qtbot, window.editor, " EDIT-B")
    column.set_target(fake_llm.base_url, "model-b")
    fake_llm.script(Reply(text="ok"))
    with qtbot.waitSignal(ws.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()  # Ctrl+Enter: saves a version with both edits
    assert ws.db.call(library.latest_version, prompt_id).template == "EDIT-A EDIT-B"

    _open(window, qtbot, other)  # click another prompt ...
    _open(window, qtbot, prompt_id)  # ... and come back
    assert window.editor.toPlainText() == "EDIT-A EDIT-B"
    assert window.run_board.columns[0].config().model == "model-b"
    assert "Restored unsaved changes" not in window.statusBar().currentMessage()
    assert not ws.dirty

    window.close()  # and after a restart
    window.workspace.db.close()
    db = open_library(isolated_home)
    reborn = MainWindow(db, KeyStore(), isolated_home)
    qtbot.addWidget(reborn)
    with qtbot.waitSignal(reborn.workspace.promptOpened, timeout=5000):
        reborn.start()
    assert reborn.workspace.prompt_id == prompt_id
    assert reborn.editor.toPlainText() == "EDIT-A EDIT-B"
    assert reborn.run_board.columns[0].config().model == "model-b"
    reborn.close()
    db.close()


def test_undoing_edits_back_to_the_saved_text_forgets_the_draft(window, qtbot) -> None:
    ws = window.workspace
    other = new_prompt(qtbot, window)
    prompt_id = new_prompt(qtbot, window)
    window.editor.setPlainText("saved text")
    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "save"):  # fmt: skip
        window.registry["prompt.save"].trigger()
    type_text(qtbot, window.editor, " and more")
    _fire_draft_timer(window, qtbot)
    window.editor.setPlainText("saved text")  # the user takes the edit back
    _fire_draft_timer(window, qtbot)
    assert ws.db.call(library.load_draft, prompt_id) is None
    _open(window, qtbot, other)
    _open(window, qtbot, prompt_id)
    assert window.editor.toPlainText() == "saved text"


def test_status_bar_names_versions_by_their_number(window, qtbot) -> None:
    ws = window.workspace
    first = new_prompt(qtbot, window)
    for text in ("one", "two"):  # ids 1.. are shared by every prompt (samples, this one)
        window.editor.setPlainText(text)
        with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                              check_params_cb=lambda name: name == "save"):  # fmt: skip
            window.registry["prompt.save"].trigger()
    second = new_prompt(qtbot, window)
    window.editor.setPlainText("first text of the second prompt")
    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "save"):  # fmt: skip
        window.registry["prompt.save"].trigger()
    version = ws.db.call(library.latest_version, second)
    assert version.number == 1 and version.id != 1
    assert window.statusBar().currentMessage() == "Saved v1"

    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "save"):  # fmt: skip
        window.registry["prompt.save"].trigger()  # nothing changed
    assert window.statusBar().currentMessage() == "No changes since v1"
    assert ws.db.call(library.count_versions, second) == 1
    assert ws.db.call(library.count_versions, first) == 2


def _error_boxes(window) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox, "errorMessageBox") if b.isVisible()]


def test_a_read_only_library_says_what_was_not_saved(window, qtbot) -> None:
    ws = window.workspace
    prompt_id = new_prompt(qtbot, window)
    # As root chmod stops nothing: SQLite's own switch refuses writes like a read-only file.
    ws.db.call(lambda conn: conn.execute("PRAGMA query_only = 1"))
    type_text(qtbot, window.editor, "words worth keeping")
    window.registry["prompt.save"].trigger()
    qtbot.waitUntil(lambda: len(_error_boxes(window)) == 1, timeout=5000)
    box = _error_boxes(window)[0]
    assert box.windowTitle() == "Not saved"
    assert box.text().startswith("Could not store the version in the library ")
    assert "read-only" in box.text()
    box.close()
    qtbot.waitUntil(lambda: not _error_boxes(window), timeout=5000)

    for _ in range(2):  # the autosave fails too: said once, not at every pause in typing
        type_text(qtbot, window.editor, ".")
        ws.drafts.timer.stop()
        with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                              check_params_cb=lambda name: name == "draft"):  # fmt: skip
            ws.drafts.save_soon()
    qtbot.waitUntil(lambda: len(_error_boxes(window)) == 1, timeout=5000)
    assert "unsaved changes (draft)" in _error_boxes(window)[0].text()
    assert window.editor.toPlainText() == "words worth keeping.."  # nothing lost on screen

    ws.db.call(lambda conn: conn.execute("PRAGMA query_only = 0"))
    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "save"):  # fmt: skip
        window.registry["prompt.save"].trigger()
    assert ws.db.call(library.latest_version, prompt_id).template == "words worth keeping.."


def test_history_shows_an_answer_cut_off_by_a_crash_as_interrupted(
    qtbot, qloop, isolated_home: Path
) -> None:
    db = open_library(isolated_home)  # the run of a process that is then killed
    prompt = db.call(library.create_prompt, "Killed mid-stream")
    version = db.call(library.save_version, prompt.id, "user:\nCount.", {}, {})
    run = db.call(library.record_run, version.id, {})
    checkpoints = ResponseCheckpoints(db, [Message("user", "Count.")])
    checkpoints.start(run.id)
    result = TargetResult(RunTarget("c1", Endpoint(base_url="http://127.0.0.1:9/v1"), "slow"))
    result.status = TargetStatus.STREAMING
    for delta in ("one ", "two "):
        result.add_text(delta)
    checkpoints.on_update("c1", result, "two ")
    db.close()  # no final answer: only the checkpoint is on disk

    db = open_library(isolated_home)
    main = MainWindow(db, KeyStore(), isolated_home)
    qtbot.addWidget(main)
    main.show()
    with qtbot.waitSignal(main.workspace.promptOpened, timeout=5000):
        main.start()
    if main.workspace.prompt_id != prompt.id:
        _open(main, qtbot, prompt.id)
    main.registry["view.history"].trigger()
    pane = main.history
    with qtbot.waitSignal(pane.runsShown, timeout=5000):
        pane.tabs.setCurrentIndex(RUNS_TAB)
    qtbot.waitUntil(lambda: pane.runs_model.rowCount() == 1, timeout=5000)
    run_index = pane.runs_model.index(0, 0)
    status = pane.runs_model.index(0, 1, run_index)
    assert status.data() == "interrupted"
    assert "stopped while this answer streamed" in status.data(Qt.ItemDataRole.ToolTipRole)
    assert pane.answer.toPlainText().startswith("one two \n\n[interrupted] ")
    main.close()
    db.close()


def test_a_gui_run_keeps_its_partial_answer_while_streaming(window, qtbot, fake_llm) -> None:
    ws = window.workspace
    prompt_id = new_prompt(qtbot, window)
    window.run_board.columns[0].set_target(fake_llm.base_url, "slow")
    window.editor.setPlainText("user:\nCount slowly.")
    fake_llm.script(Reply(text="tick " * 400, tokens_per_second=50))
    window.registry["run.run"].trigger()

    def stored() -> list[tuple[str, str]]:
        version = ws.db.call(library.latest_version, prompt_id)
        if version is None:
            return []
        return [(r.text, r.status) for entry in ws.db.call(library.runs_for_version, version.id)
                for r in entry.responses]  # fmt: skip

    # While it streams, the library already holds what arrived (a crash now keeps it).
    qtbot.waitUntil(lambda: any(s == "streaming" and t.count("tick") >= 2 for t, s in stored()),
                    timeout=10_000)  # fmt: skip
    with qtbot.waitSignal(ws.runFinished, timeout=10_000):
        ws.stop()
    [(text, status)] = stored()  # the final answer replaced the checkpoint: one row
    assert status == "cancelled"
    assert text.startswith("tick tick") and ("tick " * 400).startswith(text)
