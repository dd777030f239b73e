"""Issue 15 ("The house"): every module under ``promptstudio/ui`` stays one a reader can
take in.

A guide, not a law of nature: no module over ~600 lines and no class over ~30 methods
(``@overload`` stubs are not methods). A class that outgrows it is split into owners with
one job each, as ``main_window`` was into ``window_actions``, ``lazy_panes``,
``window_dialogs`` and ``recent_prompts``. The core has its own check
(``tests/test_module_sizes.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import promptstudio

UI = Path(promptstudio.__file__).parent / "ui"
MODULES = sorted(UI.rglob("*.py"))
MAX_LINES = 600
MAX_METHODS = 30


def _is_overload(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id == "overload")
        or (isinstance(d, ast.Attribute) and d.attr == "overload")
        for d in function.decorator_list
    )


def _methods(cls: ast.ClassDef) -> int:
    return sum(
        1
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_overload(node)
    )


def _classes(text: str) -> dict[str, int]:
    """Every class of a module (nested ones too) and its number of methods."""
    return {
        node.name: _methods(node)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ClassDef)
    }


def test_the_whole_of_ui_is_found() -> None:
    names = {path.relative_to(UI).as_posix() for path in MODULES}
    assert {"main_window.py", "library/library_model.py", "board/run_board.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.relative_to(UI).as_posix())
def test_modules_and_classes_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    classes = _classes(text)
    assert len(text.splitlines()) <= MAX_LINES
    too_big = {name: count for name, count in classes.items() if count > MAX_METHODS}
    assert too_big == {}


def test_a_nested_class_is_counted_and_overloads_are_not() -> None:
    methods = "".join(f"        def m{i}(self): ...\n" for i in range(31))
    overloads = "        @overload\n        def m0(self, x: int): ...\n"
    source = "def f():\n    class Big:\n" + overloads + methods
    assert _classes(source) == {"Big": 31}
