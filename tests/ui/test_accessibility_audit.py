"""Issue 22: every focusable control in the window and its dialogs has a name a screen
reader can say, with its context; no Tab stop is invisible."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from promptstudio.evals.model_prompts import PROMPTS
from promptstudio.evals.plan import EvalPlan
from promptstudio.ui import a11y
from promptstudio.ui.board.compare_dialog import CompareDialog
from promptstudio.ui.evaluate.eval_plan import PlanDialog
from promptstudio.ui.evaluate.judge_prompt_dialog import JudgePromptDialog
from promptstudio.ui.main_window import MainWindow
from tests.ui.conftest import type_text


def describe(widget: QWidget) -> str:
    path: list[str] = []
    current: QWidget | None = widget
    while current is not None and len(path) < 4:
        path.append(f"{type(current).__name__}:{current.objectName()}")
        current = current.parentWidget()
    return " < ".join(path)


def unnamed(root: QWidget) -> list[str]:
    return [describe(widget) for widget in a11y.unnamed_widgets(root)]


def dialogs(window: MainWindow, qtbot) -> list[QDialog]:
    """Every dialog the window opens, each built for real."""
    type_text(qtbot, window.editor, "user:\nHello {{ name }}")
    qtbot.waitUntil(lambda: "name" in window.variables.names())
    window.run_board.add_column()
    left, right = window.run_board.columns[:2]
    built: list[QDialog] = [
        window.open_settings(),
        window.open_quick_open(),
        window.open_palette(),
        CompareDialog("a", "answer one", "b", "answer two", window),
        JudgePromptDialog(None, window),
        PlanDialog(EvalPlan(()), "Plan", window),
    ]
    for what in ("shortcuts", "docs", "report"):
        dialog = window.open_help(what)
        assert dialog is not None
        built.append(dialog)
    window.registry["file.export"].trigger()
    qtbot.waitUntil(lambda: window.exchange.export_dialog is not None)
    assert window.exchange.export_dialog is not None
    built.append(window.exchange.export_dialog)
    preview = window.workspace.preview()
    assert preview is not None
    built.append(preview)
    assert PROMPTS and left is not right
    return built


def test_every_focusable_control_is_named(window: MainWindow, qtbot) -> None:
    assert unnamed(window) == []
    assert a11y.invisible_tab_stops(window) == []
    missing = {}
    for dialog in dialogs(window, qtbot):
        missing[dialog.windowTitle()] = unnamed(dialog)
        dialog.close()
    gaps = {title: names for title, names in missing.items() if names}
    assert not gaps, "\n".join(f"{t}: {n}" for t, n in gaps.items())


def test_column_names_carry_their_context(window: MainWindow, qtbot) -> None:
    board = window.run_board
    board.add_column()
    second = board.columns[1]
    second.set_target("http://127.0.0.1:9/v1", "gpt-4o-mini")
    assert second.run_button.accessibleName() == (
        "Run column 2 (gpt-4o-mini at http://127.0.0.1:9/v1)"
    )
    assert second.output.accessibleName().startswith("Answer from column 2 (gpt-4o-mini")
    assert second.model.accessibleName() == "Model of column 2"
    assert second.temperature.accessibleName().endswith(", column 2")
    board.move_column(second.column_id, -1)  # the names follow the place
    assert second.run_button.accessibleName().startswith("Run column 1 (gpt-4o-mini")
    assert board.columns[1].model.accessibleName() == "Model of column 2"


def test_tooltips_become_descriptions(window: MainWindow) -> None:
    """What a tooltip says beyond the name reaches a screen reader as the description."""
    repeats = window.run_board.repeats
    assert a11y.accessible_description(repeats).startswith("Samples per column: run each")
