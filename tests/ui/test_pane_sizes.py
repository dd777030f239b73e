"""Issue 15: the library and history panes stay split by responsibility.

A guide, not a law of nature: no module over ~600 lines and no class over ~30 methods in
``ui/library`` and ``ui/history`` (``@overload`` stubs are not methods).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import promptstudio

UI = Path(promptstudio.__file__).parent / "ui"
MODULES = sorted([*(UI / "library").glob("*.py"), *(UI / "history").glob("*.py")])
MAX_LINES = 600
MAX_METHODS = 30


def _is_overload(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "overload" for d in function.decorator_list)


def _methods(cls: ast.ClassDef) -> int:
    return sum(
        1
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_overload(node)
    )


@pytest.mark.parametrize("path", MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_modules_and_classes_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES
    too_big = {
        node.name: _methods(node)
        for node in ast.parse(text).body
        if isinstance(node, ast.ClassDef) and _methods(node) > MAX_METHODS
    }
    assert too_big == {}
