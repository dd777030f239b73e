"""Every evals module imports first and alone in a fresh interpreter: no import cycle that
only works when ``graders`` happens to come first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import promptstudio.evals

MODULES = sorted(
    path.stem for path in Path(promptstudio.evals.__file__).parent.glob("*.py")
    if path.stem != "__init__"
)  # fmt: skip

# The package's __init__ imports graders (through checks_text) before anything else, which
# hid the cycle; here the package is a bare namespace, so the module named comes first.
FIRST = """
import importlib, sys, types
import promptstudio
package = types.ModuleType("promptstudio.evals")
package.__path__ = [sys.argv[2]]
sys.modules["promptstudio.evals"] = package
importlib.import_module("promptstudio.evals." + sys.argv[1])
"""


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first(module: str) -> None:
    folder = str(Path(promptstudio.evals.__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", FIRST, module, folder], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
