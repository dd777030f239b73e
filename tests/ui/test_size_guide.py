"""The house's size guide (issue 15): under ``promptstudio/ui/`` no class has more than 30
methods and no module more than 600 lines. A class that outgrows it is split into owners
with one job each (see ``main_window`` and its ``window_actions``, ``lazy_panes``,
``window_dialogs``)."""

from __future__ import annotations

import ast
from pathlib import Path

import promptstudio.ui

UI = Path(promptstudio.ui.__file__).parent
MAX_METHODS = 30
MAX_LINES = 600

# Still over the guide while they are being reshaped (issue 15, 2026-12-07): the coordinator
# takes each name out once its reshaping is merged. A listed class's module is exempt from
# the line limit as well. Add nothing here: split the class instead.
ALLOWED = frozenset({"RunBoard", "RunColumn", "CasesTable"})


def _modules() -> list[tuple[str, str, ast.Module]]:
    found = []
    for path in sorted(UI.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found.append((path.relative_to(UI).as_posix(), text, ast.parse(text)))
    return found


def _classes(tree: ast.Module) -> list[tuple[str, int]]:
    """Every class (nested ones too) with the number of ``def``s in its own body (each
    ``@overload`` stub counts)."""
    return [
        (node.name, sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in node.body))
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]


def test_no_ui_class_has_more_than_30_methods() -> None:
    over = [
        f"{module}: {name} has {count} methods"
        for module, _text, tree in _modules()
        for name, count in _classes(tree)
        if count > MAX_METHODS and name not in ALLOWED
    ]
    assert not over, over


def test_no_ui_module_is_longer_than_600_lines() -> None:
    over = [
        f"{module}: {len(text.splitlines())} lines"
        for module, text, tree in _modules()
        if len(text.splitlines()) > MAX_LINES
        and not any(name in ALLOWED for name, _count in _classes(tree))
    ]
    assert not over, over


def test_the_counting_sees_what_it_should() -> None:
    """The guide's own check: a class of 31 methods, nested in a function, is seen."""
    source = "def f():\n    class Big:\n" + "".join(
        f"        def m{i}(self): ...\n" for i in range(31)
    )
    assert _classes(ast.parse(source)) == [("Big", 31)]
