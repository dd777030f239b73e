"""A promptfoo config's ``tests`` and ``defaultTest`` as test cases.

Part of :mod:`promptstudio.exchange.promptfoo_import`.
"""

from __future__ import annotations

import copy
from typing import Any

from promptstudio.evals.graders import ungraded_reason
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.promptfoo_files import ReferencedFiles, scalar_text
from promptstudio.exchange.promptfoo_format import check_from_promptfoo


def cases_from_config(
    config: dict[str, Any], files: ReferencedFiles, notes: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The test cases, and ``defaultTest``'s vars (the variables when there are no tests);
    what is left out goes into ``notes``."""
    default = config.get("defaultTest")
    if isinstance(default, str):
        default = files.data(default, "defaultTest", unread={})
    if default is None:
        default = {}
    if not isinstance(default, dict):
        raise ExchangeError("'defaultTest' must be a mapping.")
    default_vars = _vars(default.get("vars"), files, "defaultTest")
    default_checks = _checks(default.get("assert"), "defaultTest")
    notes += _left_out_options(default.get("options"), "defaultTest (every test)")
    if _option(default, "provider"):
        notes.append(
            "defaultTest's options.provider (the model grading llm-rubric checks) is left "
            "out: choose the judge in the Evaluate tab, or with eval --judge."
        )
    expand = not _option(default, "disableVarExpansion")
    cases = [
        expanded
        for number, test in enumerate(_tests(config.get("tests"), files), start=1)
        for expanded in _expanded(
            _case(test, f"Test {number}", default_vars, default_checks, files, notes, default),
            expand and not _option(test, "disableVarExpansion"),
            files,
            f"test {number}",
        )
    ]
    return cases, default_vars


def _option(test: object, name: str) -> bool:
    options = test.get("options") if isinstance(test, dict) else None
    return isinstance(options, dict) and bool(options.get(name))


def _expanded(
    case: dict[str, Any], expand: bool, files: ReferencedFiles, what: str
) -> list[dict[str, Any]]:
    """The case once per combination of its list variables, as promptfoo runs a test: a
    variable holding a list of texts stands for each of them (unless ``disableVarExpansion``);
    a ``file://`` text among them is read then."""
    combinations: list[dict[str, Any]] = [{}]
    for name, value in case["vars"].items():
        spread = expand and isinstance(value, list) and bool(value) and isinstance(value[0], str)
        values = value if spread else [value]
        if spread:
            values = [
                files.var_value(item, f"The variable '{name}' of {what}")
                if isinstance(item, str) and item.startswith("file://")
                else item
                for item in values
            ]
        combinations = [{**done, name: item} for done in combinations for item in values]
    return [{**copy.deepcopy(case), "vars": combination} for combination in combinations]


def _tests(value: object, files: ReferencedFiles) -> list[object]:
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    tests: list[object] = []
    for entry in entries:
        if isinstance(entry, str):
            loaded = files.data(entry, "tests", unread=[])
            tests.extend(loaded if isinstance(loaded, list) else [loaded])
        else:
            tests.append(entry)
    return tests


def _case(
    test: object,
    what: str,
    default_vars: dict[str, Any],
    default_checks: list[dict[str, Any]],
    files: ReferencedFiles,
    notes: list[str],
    default: dict[str, Any],
) -> dict[str, Any]:
    if not isinstance(test, dict):
        raise ExchangeError(f"{what} must be a mapping (vars, assert, ...).")
    notes += _left_out_options(test.get("options"), what.lower())
    if test.get("providers"):
        notes.append(
            f"{what} runs only on some providers in promptfoo ({_listed(test['providers'])}); "
            "here every column runs it."
        )
    case: dict[str, Any] = {"vars": {**default_vars, **_vars(test.get("vars"), files, what)}}
    description = scalar_text(test.get("description"), f"The description of {what.lower()}")
    if description:
        case["description"] = description
    metadata = test.get("metadata")
    own = _checks(test.get("assert"), what)
    if isinstance(test.get("expected"), str):  # a case read from a CSV or JSON Lines file
        case["expected"] = test["expected"]
    elif isinstance(metadata, dict) and isinstance(metadata.get("expected"), str):
        case["expected"] = expected = metadata["expected"]
        if own == [{"type": "equals", "value": expected}] and not default_checks:
            own = []  # the check our export writes for an expected answer: implied here
    checks = [*default_checks, *own]
    if checks:
        case["assert"] = checks
    threshold = test.get("threshold", default.get("threshold"))
    if threshold is not None:
        case["threshold"] = _threshold(threshold, what)
    return case


def _listed(value: object) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(str(item) for item in items)


def _left_out_options(options: object, whose: str) -> list[str]:
    """Notes on a test's ``options`` that change what is graded and have no place here."""
    if not isinstance(options, dict):
        return []
    return [
        f"The options.{key} of {whose} is left out: it is code promptfoo runs on each answer "
        "before grading it, and PromptStudio grades the answer as the model gave it."
        for key in ("transform", "postprocess")
        if options.get(key)
    ]


def ungraded_notes(cases: list[dict[str, Any]]) -> list[str]:
    """Notes naming the checks kept but not graded here (JavaScript among them), and the
    Python checks that run only once the user turns code checks on, with their tests."""
    found: dict[str, list[int]] = {}
    code: dict[str, list[int]] = {}
    for number, case in enumerate(cases, start=1):
        for check in case.get("assert") or ():
            base = str(check.get("type", "")).removeprefix("not-")
            place = code if base == "python" else found
            if base in ("javascript", "python") or ungraded_reason(check) is not None:
                tests = place.setdefault(str(check["type"]), [])
                if number not in tests:
                    tests.append(number)
    notes = []
    if found:
        notes.append(
            f"Checks kept but not graded in PromptStudio (promptfoo grades them): {_where(found)}."
        )
    if code:
        notes.append(
            "Python checks run only once you turn on 'Run code checks' in Settings (the CLI: "
            f"--allow-code-checks); an import never turns it on: {_where(code)}."
        )
    return notes


def _where(found: dict[str, list[int]]) -> str:
    return "; ".join(
        f"'{kind}' in test{'s' if len(tests) > 1 else ''} {', '.join(map(str, tests))}"
        for kind, tests in found.items()
    )


def _threshold(value: object, what: str) -> float:
    """A test's ``threshold``: the weighted score of its checks it passes at."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ExchangeError(f"The threshold of {what.lower()} must be a number, not {value!r}.")
    return float(value)


def _vars(value: object, files: ReferencedFiles, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):  # promptfoo reads a mapping from this file
        value = files.data(value, f"The vars of {what.lower()}", unread={})
    if not isinstance(value, dict):
        raise ExchangeError(f"The vars of {what.lower()} must be a mapping of names to values.")
    return {
        name: files.var_value(item, f"The variable '{name}' of {what.lower()}")
        if isinstance(item, str) and item.startswith("file://")
        else item
        for name, item in value.items()
    }


def _checks(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(check, dict) for check in value):
        raise ExchangeError(f"The assert of {what.lower()} must be a list of assertions.")
    return [check_from_promptfoo(check) for check in value]
