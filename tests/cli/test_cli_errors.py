"""The CLI has one error type: every command's failures are a CliError with an exit code."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import promptstudio.cli
from promptstudio.cli import CliError, parse_values
from promptstudio.errors import PromptStudioError


def test_every_command_raises_the_one_cli_error() -> None:
    defined = set()
    for info in pkgutil.iter_modules(promptstudio.cli.__path__, "promptstudio.cli."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, PromptStudioError) and cls.__module__.startswith("promptstudio.cli"):
                defined.add(cls)
    defined.add(CliError)
    assert defined == {CliError}


def test_parse_values_is_documented() -> None:
    assert parse_values.__doc__ is not None and "--var" in parse_values.__doc__
