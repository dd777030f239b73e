"""The workspace is thin wiring over small owners, and the evaluation reads no workspace."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

OWNERS = (
    "promptstudio.session",
    "promptstudio.events",
    "promptstudio.ui.workspace",
    "promptstudio.ui.navigation",
    "promptstudio.ui.drafts",
    "promptstudio.ui.endpoints",
    "promptstudio.ui.run_flow",
    "promptstudio.ui.session_binding",
    "promptstudio.ui.status",
    "promptstudio.ui.editor.analysis",
    "promptstudio.ui.evaluate.eval_flow",
)


def _tree(module: str) -> tuple[Path, ast.Module]:
    source = importlib.import_module(module).__file__
    assert source is not None
    path = Path(source)
    return path, ast.parse(path.read_text(encoding="utf-8"))


def test_the_session_owners_are_small() -> None:
    for module in OWNERS:
        path, tree = _tree(module)
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 600, module
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                methods = [
                    n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                assert len(methods) <= 30, f"{module}.{node.name}: {len(methods)} methods"


def test_the_evaluation_is_handed_what_it_needs() -> None:
    _path, tree = _tree("promptstudio.ui.evaluate.eval_flow")
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "promptstudio.ui.workspace" not in imported
    assert "promptstudio.ui.board.run_board" not in imported
    assert "promptstudio.ui.editor.template_editor" not in imported
