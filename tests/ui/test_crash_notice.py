"""At start-up the window says how many answers a crash cut off, once (issue 14)."""

from __future__ import annotations

from pathlib import Path

from promptstudio.chat import Message
from promptstudio.credentials import KeyStore
from promptstudio.providers import Endpoint
from promptstudio.runs import RunTarget, TargetResult, TargetStatus
from promptstudio.runs.checkpoint import ResponseCheckpoints
from promptstudio.storage import library
from promptstudio.ui.app import open_library
from promptstudio.ui.main_window import MainWindow

NOTICE = "2 answers were cut off by a crash; History shows them as interrupted"


def _crash_mid_stream(home: Path) -> None:
    """Two columns' answers checkpointed mid-stream, then the process is gone."""
    db = open_library(home)
    prompt = db.call(library.create_prompt, "Killed mid-stream")
    version = db.call(library.save_version, prompt.id, "user:\nCount.", {}, {})
    run = db.call(library.record_run, version.id, {})
    checkpoints = ResponseCheckpoints(db, [Message("user", "Count.")])
    checkpoints.start(run.id)
    for key in ("c1", "c2"):
        result = TargetResult(RunTarget(key, Endpoint(base_url="http://127.0.0.1:9/v1"), "m"))
        result.status = TargetStatus.STREAMING
        result.add_text("one ")
        checkpoints.on_update(key, result, "one ")
    db.close()


def _start(qtbot, home: Path) -> MainWindow:
    main = MainWindow(open_library(home), KeyStore(), home)
    qtbot.addWidget(main)
    main.show()
    with qtbot.waitSignal(main.workspace.libraryLoaded, timeout=5000):
        main.start()
    return main


def test_the_status_bar_says_how_many_answers_a_crash_cut_off(
    qtbot, qloop, isolated_home: Path
) -> None:
    _crash_mid_stream(isolated_home)
    main = _start(qtbot, isolated_home)
    shown = main.statusBar().currentMessage()
    assert shown.endswith(NOTICE)
    assert shown.startswith("Opened “Killed mid-stream”")  # the prompt's own line stays
    main.close()
    main.workspace.db.close()

    again = _start(qtbot, isolated_home)  # already marked: nothing to say the next time
    assert "crash" not in again.statusBar().currentMessage()
    again.close()
    again.workspace.db.close()
