"""A DeprecationWarning whose origin is our own code fails the test suite.

pyproject.toml's ``filterwarnings`` turns them into errors. Its module field is a regular
expression matched at the start of the module name of the code that warned (for a warning
from C, like sqlite3's, the Python caller): these tests check it catches every
``promptstudio`` module and leaves other code's warnings alone.
"""

from __future__ import annotations

import sys
import types
import warnings

import pytest


def _warn_from(module_name: str) -> None:
    """Raise a DeprecationWarning from code that lives in the module ``module_name``."""
    module = types.ModuleType(module_name)
    exec(
        "import warnings\n"
        "def old():\n"
        "    warnings.warn('old API', DeprecationWarning, stacklevel=1)\n",
        module.__dict__,
    )
    module.old()


@pytest.mark.parametrize(
    "name", ["promptstudio", "promptstudio.storage.cases", "promptstudio.ui.x"]
)
def test_a_deprecation_warning_from_our_package_is_an_error(name: str) -> None:
    with pytest.raises(DeprecationWarning, match="old API"):
        _warn_from(name)


@pytest.mark.parametrize("name", ["jinja2.utils", "tests.helpers", "promptstudio_plugin"])
def test_other_code_only_warns(name: str) -> None:
    with pytest.warns(DeprecationWarning, match="old API"):
        _warn_from(name)


def test_a_warning_from_c_counts_for_its_python_caller() -> None:
    """sqlite3 warns from C about numbered placeholders with a sequence (Python 3.12)."""
    source = (
        "import sqlite3\n"
        "def execute():\n"
        "    conn = sqlite3.connect(':memory:')\n"
        "    try:\n"
        "        conn.execute('SELECT ?1, ?2', (1, 2))\n"
        "    finally:\n"
        "        conn.close()\n"
    )
    theirs, ours = types.ModuleType("elsewhere"), types.ModuleType("promptstudio.fake_storage")
    exec(source, theirs.__dict__)
    exec(source, ours.__dict__)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        theirs.execute()
    if not seen:
        pytest.skip(f"sqlite3 of Python {sys.version.split()[0]} does not warn about this")
    with pytest.raises(DeprecationWarning, match="named parameter"):
        ours.execute()
