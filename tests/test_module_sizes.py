"""Issue 15 ("The house"): the Qt-free core stays in modules a reader can take in.

A guide, not a law of nature: no module over ~600 lines and no class over ~30 methods
(``@overload`` stubs are not methods). ``ui`` has its own check (``tests/ui/
test_pane_sizes.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import promptstudio

ROOT = Path(promptstudio.__file__).parent
LEFT_OUT = ("ui",)
MODULES = sorted(
    path for path in ROOT.rglob("*.py") if path.relative_to(ROOT).parts[0] not in LEFT_OUT
)
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


def test_the_core_is_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in MODULES}
    assert {
        "session.py",
        "storage/schema.py",
        "cli/evaluate.py",
        "exchange/promptfoo_import.py",
    } <= names
    assert not any(name.startswith("ui/") for name in names)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_modules_and_classes_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES
    too_big = {
        node.name: _methods(node)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ClassDef) and _methods(node) > MAX_METHODS
    }
    assert too_big == {}
