"""Start-up builds what the first screen shows: History and Evaluate are built when first
shown or used, and the modules only they (and the dialogs) need are not imported before
the window is usable (issue 21)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from promptstudio.storage import library
from promptstudio.ui.main_window import EVALUATE_TAB, HISTORY_TAB, MainWindow

# Imported on first use only: the panes below the Run tab, the exchange formats (PyYAML),
# the evaluation's graders and plan, the compare dialog's diff, the SDKs, Pygments (lexes
# the first code shown).
NOT_AT_START = (
    "promptstudio.ui.history.history_pane",
    "promptstudio.ui.evaluate.eval_flow",
    "promptstudio.ui.evaluate.eval_pane",
    "promptstudio.ui.export_dialog",
    "promptstudio.ui.board.compare_dialog",
    "promptstudio.exchange",
    "promptstudio.evals",
    "yaml",
    "jsonschema",
    "openai",
    "anthropic",
    "pygments",
)

USABLE = r"""
import sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

LAZY = sys.argv[2].split(",")

class Usable(QObject):
    def eventFilter(self, watched, event):
        if (isinstance(watched, QMainWindow) and event.type() == QEvent.Type.WindowTitleChange
                and "\u2014" in watched.windowTitle()):
            print("loaded:", ",".join(name for name in LAZY if name in sys.modules), flush=True)
            watched.close()
        return False

app = QApplication(sys.argv[:1])
probe = Usable()
app.installEventFilter(probe)
from promptstudio.cli import main
sys.exit(main(["--data-dir", sys.argv[1]]))
"""


def test_the_usable_window_has_imported_nothing_the_first_screen_does_not_show(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}  # fmt: skip
    env_args = [sys.executable, "-c", USABLE, str(tmp_path / "data"), ",".join(NOT_AT_START)]
    for _launch in ("first", "again"):  # the first launch also installs the samples
        done = subprocess.run(env_args, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        [line] = [line for line in done.stdout.splitlines() if line.startswith("loaded:")]
        assert line == "loaded: ", line


def _page(window: MainWindow, index: int) -> str:
    page = window.bottom_tabs.widget(index)
    assert page is not None
    return page.objectName()


def test_history_and_evaluate_are_built_when_first_shown(window: MainWindow, qtbot) -> None:
    tabs = window.bottom_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Run", "Evaluate", "History"]
    assert _page(window, EVALUATE_TAB) != "evalPane"  # stand-ins until shown
    assert _page(window, HISTORY_TAB) != "historyPane"
    db, prompt_id = window.workspace.db, window.workspace.prompt_id
    assert prompt_id is not None
    cases = db.call(library.list_cases, prompt_id)

    tabs.setCurrentIndex(EVALUATE_TAB)
    assert tabs.currentWidget() is window.evaluate
    assert window.evaluate.objectName() == "evalPane"
    # The open prompt's cases are shown at once, as if the tab had been there all along.
    assert [case["vars"] for case in window.workspace.session.cases] == [c.vars for c in cases]
    assert window.eval_flow.prompt_id == prompt_id

    tabs.setCurrentIndex(HISTORY_TAB)
    assert tabs.currentWidget() is window.history
    assert window.history.model.prompt_id == prompt_id
    qtbot.waitUntil(lambda: window.history.model.rowCount() > 0, timeout=5000)
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Run", "Evaluate", "History"]


def test_a_pane_used_before_it_is_shown_is_built_then(window: MainWindow, qtbot) -> None:
    tabs = window.bottom_tabs
    window.registry["view.history"].trigger()  # Ctrl+Shift+H
    assert tabs.currentWidget() is window.history
    assert _page(window, EVALUATE_TAB) != "evalPane"
    window.stop_all()  # Esc with nothing running builds nothing
    assert _page(window, EVALUATE_TAB) != "evalPane"
    window.registry["view.evaluate"].trigger()
    assert tabs.currentWidget() is window.evaluate
