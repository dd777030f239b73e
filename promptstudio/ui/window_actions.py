"""The window's menus and shortcuts, as one table.

Each row is an action (id, text, menu, shortcut, tip: an :class:`ActionSpec`) and what it
does to the window. :func:`install` registers the rows in this order, which is the menus'
order, and the command palette and the shortcuts list read the same registry. What a row
does is looked up on the window only when it fires, so registering builds none of the panes
made on first use (History, Evaluate, Improve and Optimise).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from promptstudio.storage import library
from promptstudio.ui.actions import ActionSpec
from promptstudio.ui.board.run_column import FOLD_SHORTCUT

if TYPE_CHECKING:
    from promptstudio.storage import PromptRow
    from promptstudio.ui.main_window import MainWindow

Do = Callable[["MainWindow"], object]
Key = QKeySequence.StandardKey

THEME_TEXT = {"light": "Theme: &light", "dark": "Theme: &dark", "system": "Theme: s&ystem"}
TAB_MODE_TIP = "Tab in the template editor moves to the next control instead of typing a tab"


def _on_open_prompt(do: Callable[[MainWindow, PromptRow], object]) -> Do:
    """The tree's context menu, on the open prompt as stored (the tree may not have loaded
    its folder)."""

    def act(window: MainWindow) -> None:
        prompt_id = window.workspace.prompt_id
        if prompt_id is None:
            window.notifier.say("No prompt is open", 3000)
        else:
            do(window, window.workspace.db.call(library.get_prompt, prompt_id))

    return act


def _show_run_board(window: MainWindow) -> None:
    """Ctrl+3: the run board, the focus on the first column's answer."""
    window.bottom_tabs.setCurrentWidget(window.run_board)
    window.run_board.focus_answer(Qt.FocusReason.ShortcutFocusReason)


def _add_column(window: MainWindow) -> None:
    """A new column, the focus in its model field (what one changes first)."""
    window.bottom_tabs.setCurrentWidget(window.run_board)
    column = window.run_board.add_column()
    if column is not None:
        column.focus_model()


FILE: tuple[tuple[ActionSpec, Do], ...] = (
    (
        ActionSpec("prompt.new", "&New prompt", "&File", Key.New),
        lambda w: w.tasks.start("new", w.workspace.navigation.new_prompt()),
    ),
    (
        ActionSpec("prompt.quick_open", "Quic&k open…", "&File", "Ctrl+P"),
        lambda w: w.dialogs.open_quick_open(),
    ),
    (
        ActionSpec("prompt.save", "&Save version", "&File", Key.Save),
        lambda w: w.tasks.start("save", w.workspace.navigation.save()),
    ),
    (
        ActionSpec("prompt.save_message", "Save version with &message…", "&File", "Ctrl+Shift+S"),
        lambda w: w.dialogs.save_with_message(),
    ),
    (
        ActionSpec("prompt.rename", "&Rename prompt", "&File", "F2"),
        lambda w: w.library.rename_current(),
    ),
    (
        ActionSpec("prompt.trash", "Move prompt to tras&h", "&File", "Ctrl+Shift+Del"),
        lambda w: w.tasks.start("trash", w.workspace.navigation.trash_current()),
    ),
    (
        ActionSpec("prompt.duplicate", "D&uplicate prompt", "&File", "Ctrl+K, U"),
        _on_open_prompt(lambda w, prompt: w.library.duplicate(prompt)),
    ),
    (
        ActionSpec("prompt.move", "Move prompt to f&older…", "&File", "Ctrl+K, O"),
        _on_open_prompt(lambda w, prompt: w.library.ask_move(prompt)),
    ),
    (
        ActionSpec(
            "prompt.star",
            "St&ar or unstar prompt",
            "&File",
            "Ctrl+K, A",
            "Starred prompts come first in the library",
        ),
        _on_open_prompt(lambda w, prompt: w.library.toggle_star(prompt)),
    ),
    (
        ActionSpec("prompt.tags", "Prompt ta&gs…", "&File", "Ctrl+K, T"),
        _on_open_prompt(lambda w, prompt: w.library.ask_tags(prompt)),
    ),
    (
        ActionSpec(
            "file.import",
            "&Import prompts…",
            "&File",
            "Ctrl+I",
            "Add .prompty, promptfoo, JSON, Markdown or text files to the library",
        ),
        lambda w: w.exchange.choose_files(),
    ),
    (
        ActionSpec("file.import_folder", "Import a &folder…", "&File", "Ctrl+Shift+I"),
        lambda w: w.exchange.choose_folder(),
    ),
    (
        ActionSpec(
            "file.export",
            "&Export…",
            "&File",
            "Ctrl+E",
            "Prompty, promptfoo, JSON, Markdown, Python or curl; or the library",
        ),
        lambda w: w.exchange.open_export(),
    ),
    (ActionSpec("app.settings", "Se&ttings…", "&File", "Ctrl+,"), lambda w: w.open_settings()),
    (
        ActionSpec(
            "app.local_model",
            "Set up a &local model…",
            "&File",
            "Ctrl+K, M",
            "Install and run a small model on this computer (no key, no cost)",
        ),
        lambda w: w.local_model.open_setup(),
    ),
    (ActionSpec("app.quit", "&Quit", "&File", "Ctrl+Q"), lambda w: w.close()),
)

EDIT: tuple[tuple[ActionSpec, Do], ...] = (
    (ActionSpec("edit.undo", "&Undo", "&Edit", Key.Undo), lambda w: w.editor.undo()),
    (ActionSpec("edit.redo", "&Redo", "&Edit", Key.Redo), lambda w: w.editor.redo()),
    (ActionSpec("edit.find", "&Find…", "&Edit", Key.Find), lambda w: w.find_bar.open_bar()),
    (
        ActionSpec("edit.replace", "Find and re&place…", "&Edit", "Ctrl+H"),
        lambda w: w.find_bar.open_bar(replace=True),
    ),
    (
        ActionSpec("edit.find_next", "Find &next", "&Edit", Key.FindNext),
        lambda w: w.find_bar.find_next(),
    ),
    (
        ActionSpec("edit.go_to_error", "Go to template &error", "&Edit", "F8"),
        lambda w: w.editor.go_to_error(),
    ),
    (
        ActionSpec(
            "edit.tab_moves_focus",
            "&Tab moves focus",
            "&Edit",
            "Ctrl+M",
            TAB_MODE_TIP,
            checkable=True,
        ),
        lambda w: w.toggle_tab_mode(),
    ),
)

RUN: tuple[tuple[ActionSpec, Do], ...] = (
    (
        ActionSpec("run.run", "&Run all columns", "&Run", ("Ctrl+Return", "Ctrl+Enter")),
        lambda w: w.workspace.run(),
    ),
    (ActionSpec("run.stop", "&Stop all", "&Run", "Esc"), lambda w: w.stop_all()),
    (
        ActionSpec(
            "eval.run",
            "&Evaluate on the test cases",
            "&Run",
            "Ctrl+Shift+E",
            "Run every test case on every column and grade the answers",
        ),
        lambda w: w.panes.run_evaluation(),
    ),
    (
        ActionSpec(
            "eval.samples_batch",
            "Send the samples as a &batch",
            "&Run",
            "Ctrl+K, B",
            "Each column's samples through the provider's batch API (half price, "
            "within 24 h), shown in Evaluate as they arrive",
        ),
        lambda w: w.panes.run_evaluation(samples_batch=True),
    ),
    (
        ActionSpec(
            "eval.plan",
            "&Plan the evaluation (cost)…",
            "&Run",
            "Ctrl+Alt+E",
            "Requests, cache hits, estimated tokens and cost, before spending",
        ),
        lambda w: w.evaluate.request_plan(),
    ),
    (
        ActionSpec(
            "eval.clear_cache",
            "Forget the cached &answers",
            "&Run",
            "Ctrl+Alt+Shift+E",
            "Evaluations ask the models again instead of reusing an answer",
        ),
        lambda w: w.tasks.start("clear-cache", w.eval_flow.clear_cache()),
    ),
    (
        ActionSpec("run.preview", "Pre&view the messages…", "&Run", "Ctrl+Shift+Return"),
        lambda w: w.workspace.preview(),
    ),
    (ActionSpec("run.add_column", "Add a &column", "&Run", "Ctrl+Shift+N"), _add_column),
    (
        ActionSpec(
            "run.fold_columns",
            "&Fold the column settings",
            "&Run",
            FOLD_SHORTCUT,
            "Show each column's server, model and parameters as one line, or all",
        ),
        lambda w: w.run_board.toggle_fold_all(),
    ),
)

IMPROVE: tuple[tuple[ActionSpec, Do], ...] = (
    (
        ActionSpec(
            "improve.improve",
            "&Improve prompt…",
            "&Improve",
            "Ctrl+Alt+I",
            "A model critiques the template and proposes a checked rewrite",
        ),
        lambda w: w.improve.open_improve(),
    ),
    (
        ActionSpec(
            "improve.new_prompt",
            "&Write a prompt from a task…",
            "&Improve",
            "Ctrl+Alt+N",
            "A model writes a first template with sample values",
        ),
        lambda w: w.improve.new_prompt_from_task(),
    ),
    (
        ActionSpec(
            "improve.cases",
            "&Generate test cases…",
            "&Improve",
            "Ctrl+Alt+G",
            "Typical, edge and adversarial cases, added marked generated",
        ),
        lambda w: w.improve.generate_cases_asked(),
    ),
    (
        ActionSpec(
            "improve.optimise",
            "&Optimise on the test cases…",
            "&Improve",
            "Ctrl+Alt+O",
            "Rounds of rewrites, each evaluated; the best is kept",
        ),
        lambda w: w.optimise.open(),
    ),
)

VIEW: tuple[tuple[ActionSpec, Do], ...] = (
    (
        ActionSpec("view.palette", "&Command palette…", "&View", "Ctrl+Shift+P"),
        lambda w: w.open_palette(),
    ),
    (
        ActionSpec("view.editor", "Focus the &editor", "&View", "Ctrl+1"),
        lambda w: w.editor.setFocus(),
    ),
    (
        ActionSpec("view.variables", "Focus the &variables", "&View", "Ctrl+2"),
        lambda w: w.variables.focus_first(),
    ),
    (
        ActionSpec("view.tools", "Focus the &tools", "&View", "Ctrl+5"),
        lambda w: w.tools_panel.focus_editor(),
    ),
    (ActionSpec("view.run", "Show the &run board", "&View", "Ctrl+3"), _show_run_board),
    (
        ActionSpec("view.evaluate", "Show Eval&uate (test cases)", "&View", "Ctrl+4"),
        lambda w: w.panes.show_evaluate(),
    ),
    (
        ActionSpec("view.history", "Show the &history", "&View", "Ctrl+Shift+H"),
        lambda w: w.panes.show_history(),
    ),
    (
        ActionSpec("view.prompts", "Focus the &prompt list", "&View", "Ctrl+0"),
        lambda w: w.library.focus_tree(),
    ),
    (
        ActionSpec(
            "view.next_region",
            "Ne&xt region",
            "&View",
            "F6",
            "Library, editor, variables, run board, the tabs below",
        ),
        lambda w: w.regions.cycle(1),
    ),
    (
        ActionSpec("view.previous_region", "Previous re&gion", "&View", "Shift+F6"),
        lambda w: w.regions.cycle(-1),
    ),
    (
        ActionSpec("library.search", "&Search prompts and answers", "&Edit", "Ctrl+Shift+F"),
        lambda w: w.library.focus_search(),
    ),
)


def _theme(theme: str, key: str) -> tuple[ActionSpec, Do]:
    tip = "Light, dark, or the desktop's colour scheme"
    spec = ActionSpec(f"view.theme_{theme}", THEME_TEXT[theme], "&View", f"Ctrl+K, {key}", tip)
    return spec, lambda w: w.set_theme(theme)


THEMES = tuple(
    _theme(theme, key) for theme, key in (("light", "L"), ("dark", "D"), ("system", "S"))
)

HELP: tuple[tuple[ActionSpec, Do], ...] = (
    (
        ActionSpec(
            "help.shortcuts",
            "&Keyboard and accessibility…",
            "&Help",
            "Ctrl+K, K",
            "Every shortcut, the keyboard modes and what a screen reader hears",
        ),
        lambda w: w.open_help("shortcuts"),
    ),
    (
        ActionSpec("help.docs", "&Documentation…", "&Help", "Shift+F1"),
        lambda w: w.open_help("docs"),
    ),
    (
        ActionSpec(
            "help.data_folder",
            "Open the data f&older",
            "&Help",
            "Ctrl+K, F",
            "The library, settings, backups and logs",
        ),
        lambda w: w.open_help("data folder"),
    ),
    (
        ActionSpec("help.log", "Open the &log file", "&Help", "Ctrl+K, G"),
        lambda w: w.open_help("log"),
    ),
    (
        ActionSpec("help.report", "&Report a problem…", "&Help", "Ctrl+K, R"),
        lambda w: w.open_help("report"),
    ),
    (
        ActionSpec("help.about", "&About PromptStudio", "&Help", "F1"),
        lambda w: w.dialogs.about(),
    ),
)

ACTIONS = FILE + EDIT + RUN + IMPROVE + VIEW + THEMES + HELP
"""Every action, in the order of the menus and of the entries in each."""


def install(window: MainWindow) -> None:
    """Register every action on the window, build the menu bar and put Open recent in
    File, above Save version."""
    registry = window.registry
    for spec, do in ACTIONS:
        registry.add(spec, functools.partial(do, window))
    registry.build_menus()
    registry.menus["&File"].insertMenu(registry["prompt.save"], window.recent.menu)
