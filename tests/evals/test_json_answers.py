"""JSON in answers, as the run column's JSON view and the is-json grader read it."""

from __future__ import annotations

import pytest

from promptstudio.evals.graders import Answer, grade
from promptstudio.evals.json_answers import format_json, json_values, loads

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["name"],
}


def test_valid_json_is_pretty_printed() -> None:
    assert format_json('{"name": "Ada", "tags": [1, 2]}') == (
        '{\n  "name": "Ada",\n  "tags": [\n    1,\n    2\n  ]\n}',
        None,
    )


def test_a_markdown_fence_is_looked_through() -> None:
    pretty, problem = format_json('```json\n{"name": "Ada"}\n```')
    assert (pretty, problem) == ('{\n  "name": "Ada"\n}', None)
    assert format_json('```\n["é"]```') == ('[\n  "é"\n]', None)


def test_where_the_text_stops_being_json_is_named() -> None:
    text = '{"name": "Ada",\n "tags": [1, 2'
    shown, problem = format_json(text)
    assert shown == text
    assert problem is not None and problem.startswith("Not valid JSON: line 2, column ")


def test_empty_answers_have_no_problem() -> None:
    assert format_json("  \n") == ("  \n", None)
    assert format_json("```json\n```") == ("```json\n```", None)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"name": "Ada", "tags": [1, "two"]}', "tags/1"),
        ('{"tags": []}', "the top level"),
    ],
)
def test_with_a_schema_where_the_value_breaks_it(text: str, where: str) -> None:
    pretty, problem = format_json(text, SCHEMA)
    assert pretty.startswith("{\n")
    assert problem is not None
    assert problem.startswith(f"Valid JSON, but not valid against the schema at {where}: ")


def test_a_value_that_fits_the_schema_has_no_problem() -> None:
    assert format_json('{"name": "Ada", "tags": [1]}', SCHEMA)[1] is None


def test_strict_loading_refuses_python_extensions() -> None:
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        loads("[NaN]")
    assert loads('{"a": 1}') == {"a": 1}


def test_json_values_inside_prose() -> None:
    assert json_values('Here: {"a": 1} and [2, 3], not {oops') == [{"a": 1}, [2, 3]]
    assert json_values("no json") == []


def test_the_grader_and_the_view_agree_on_a_schema_break() -> None:
    answer = Answer('{"name": 3}')
    result = grade({"type": "is-json", "value": SCHEMA}, answer)
    assert not result.passed and "at $.name, 3 is not of type 'string'" in result.reason
    assert format_json(answer.text, SCHEMA)[1] == (
        "Valid JSON, but not valid against the schema at name: 3 is not of type 'string'"
    )
