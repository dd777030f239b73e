"""Generate: a first prompt from a task description, and test cases for a prompt."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promptstudio.evals.graders import GraderError, check_assertion
from promptstudio.improve.errors import FeatureError
from promptstudio.improve.improving import variable_list
from promptstudio.improve.rewrite import check_rewrite, parse_proposal
from promptstudio.storage import library
from promptstudio.storage.rows import CaseRow
from promptstudio.storage.transaction import transaction
from promptstudio.templating import TemplateError, input_names

_VALUES = re.compile(r"<values>(.*?)</values>", re.DOTALL)
_CASES = re.compile(r"<cases>(.*?)</cases>", re.DOTALL)
MAX_CASES = 200
CASE_KINDS = ("typical", "edge", "adversarial")


@dataclass(frozen=True, slots=True)
class GeneratedPrompt:
    template: str
    values: dict[str, object] = field(default_factory=dict)


def prompt_generator_values(task: str) -> dict[str, object]:
    return {"task": task.strip()}


def parse_generated_prompt(reply: str) -> GeneratedPrompt:
    """The template and sample values of a prompt generator's reply, checked to render."""
    template = parse_proposal(reply).template
    values: dict[str, object] = {}
    found = _VALUES.findall(reply)
    if found:
        try:
            data = json.loads(found[-1])
        except ValueError as exc:
            raise FeatureError(f"The sample values are not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise FeatureError("The sample values are not a JSON object of names to values.")
        values = dict(data)
    names = input_names(template)
    values = {name: values.get(name, "") for name in names}
    check_rewrite("", template, values)
    return GeneratedPrompt(template, values)


def case_generator_values(template: str, count: int) -> dict[str, object]:
    return {"template": template, "count": count, "variables": variable_list(template)}


def parse_generated_cases(
    reply: str, template: str, count: int | None = None
) -> list[dict[str, Any]]:
    """The cases of a case generator's reply in the exchange shape (``vars``,
    ``description``, ``assert``): only the template's variables, only checks that can be
    graded (a malformed one is left out and named in the description)."""
    found = _CASES.findall(reply)
    raw = found[-1] if found else reply
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise FeatureError(
            "The model's reply holds no JSON array of cases between <cases> and </cases>."
        ) from exc
    if not isinstance(data, list) or not data:
        raise FeatureError("The model's cases are not a non-empty JSON array.")
    try:
        names = input_names(template)
    except TemplateError:
        names = []
    cases = [case for item in data if (case := _case(item, names)) is not None]
    if not cases:
        raise FeatureError("None of the model's cases gives values for the prompt's variables.")
    return cases[: count or MAX_CASES]


def _case(item: object, names: Sequence[str]) -> dict[str, Any] | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("vars"), Mapping):
        return None
    given = item["vars"]
    variables = {name: _text(given[name]) for name in names if name in given}
    if names and not variables:
        return None
    for name in names:
        variables.setdefault(name, "")
    kind = str(item.get("kind") or "").strip().lower()
    description = str(item.get("description") or "").strip()
    if kind in CASE_KINDS:
        description = f"[{kind}] {description}".strip()
    checks, refused = [], []
    for check in item.get("assert") or ():
        try:
            check_assertion(check)
        except GraderError:
            refused.append(str(check)[:60])
            continue
        checks.append(dict(check))
    if refused:
        description += f" (left out {len(refused)} malformed check(s))"
    return {"vars": variables, "description": description, "assert": checks}


def _text(value: object) -> object:
    return value if isinstance(value, str | int | float | bool | list | dict) else str(value)


def store_generated_cases(
    conn: sqlite3.Connection, prompt_id: int, cases: Sequence[Mapping[str, Any]]
) -> list[CaseRow]:
    """Add the cases after the prompt's own, marked generated (one transaction)."""
    with transaction(conn):
        return [
            library.add_case(
                conn, prompt_id, case.get("vars") or {},
                description=str(case.get("description") or ""),
                asserts=case.get("assert") or (), generated=True,
            )
            for case in cases
        ]  # fmt: skip
