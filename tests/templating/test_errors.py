"""Errors carry a plain message and a 1-based line and column."""

from __future__ import annotations

import random

import pytest

from promptstudio.errors import PromptStudioError
from promptstudio.templating import (
    RenderLimits,
    TemplateError,
    check,
    find_variables,
    input_names,
    render_messages,
    role_markers,
)


@pytest.mark.parametrize(
    ("source", "location", "message"),
    [
        ("Hello {{ name }", "1:15", "unexpected '}'"),
        ("a\n{% for x in xs %}\n{{ x }}\n{% endfo %}", "4:4", "Encountered unknown tag 'endfo'."),
        ("line\n  {{ 1 + }}", "2:10", "unexpected 'end of print statement'"),
        ("{{ a ? b }}", "1:6", "unexpected char '?'"),
        ("{{ x|upper( }}", "1:13", "unexpected '}', expected ')'"),
        ("{% set %}", "1:8", "Expected an expression, got 'end of statement block'"),
        ("ok\n  {# never closed", "2:3", "Missing end of comment tag"),
        ("x\r\n{{ }}", "2:4", "Expected an expression, got 'end of print statement'"),
    ],
)
def test_syntax_errors_have_line_and_column(source: str, location: str, message: str) -> None:
    error = check(source)
    assert isinstance(error, TemplateError)
    assert error.location() == location
    assert error.message.startswith(message)
    with pytest.raises(TemplateError) as caught:
        render_messages(source, {})
    assert caught.value.location() == location


@pytest.mark.parametrize(
    ("source", "location", "message"),
    [
        ("line one\nHello {{ name \n", "2:7", "unexpected end of template, expected 'end of"),
        ("line one\nHello {{ name ", "2:7", "unexpected end of template, expected 'end of"),
        ("a\n{{ (1 + \n\n", "2:1", "unexpected 'end of template'"),
        ("a\n  {% if x \n", "2:3", "unexpected end of template, expected 'end of statement"),
        ("a\n{%", "2:1", "tag name expected"),
        ("ok\nb {# never closed\n\n", "2:3", "Missing end of comment tag"),
        ("a\nb {% raw %}\nxx\n", "2:3", "Missing end of raw directive"),
        ("{% for x in xs %}\n{{ x }}\n  ", "1:1", "Unexpected end of template."),
        ("a\n {% for x in y %}\n", "2:2", "Unexpected end of template."),
        ("a\n{%- if x -%}\n\n\n", "2:1", "Unexpected end of template."),
        ("a\n{% if x %} {% for y in z %}\nb\n", "2:12", "Unexpected end of template."),
        ("a\n{% if x %}{{ y }}\n{% for q in r %}{% endfor %}\n", "2:1", "Unexpected end"),
        ("x\n{% macro m() %}\nb\n", "2:1", "Unexpected end of template."),
    ],
)
def test_unclosed_constructs_point_at_their_opening(
    source: str, location: str, message: str
) -> None:
    """What was left open is where the error points, never a position past the text."""
    error = check(source)
    assert error is not None
    assert (error.location(), error.message[: len(message)]) == (location, message)
    lines = source.split("\n")
    assert error.line <= len(source.rstrip().split("\n"))
    assert error.column <= len(lines[error.line - 1]) + 1


def test_unknown_filter_points_at_the_filter() -> None:
    error = check("ok\n{{ x|shout }}")
    assert error is not None
    assert (error.location(), error.message) == ("2:6", "No filter named 'shout'.")


def test_check_returns_none_for_valid_templates() -> None:
    assert check("system:\n{{ a|upper }}{% for x in xs %}{{ x }}{% endfor %}") is None


def test_undefined_variable_names_its_line_and_column() -> None:
    with pytest.raises(TemplateError) as caught:
        render_messages("system:\nHi {{ known }}, {{ missing }}", {"known": "k"})
    error = caught.value
    assert (error.message, error.location()) == ("'missing' is undefined", "2:20")
    assert str(error) == "'missing' is undefined"


def test_undefined_inside_a_loop_and_a_macro() -> None:
    source = (
        "{% macro m() %}\n  {{ nope }}\n{% endmacro %}\n{% for i in [1] %}{{ m() }}{% endfor %}"
    )
    with pytest.raises(TemplateError) as caught:
        render_messages(source, {})
    assert caught.value.location() == "2:6"


def test_undefined_attribute_points_at_the_attribute() -> None:
    with pytest.raises(TemplateError) as caught:
        render_messages("\n{{ user.nmae }}", {"user": {"name": "x"}})
    assert caught.value.location() == "2:9"
    assert "nmae" in caught.value.message


def test_template_error_is_a_promptstudio_error() -> None:
    error = TemplateError("boom", 3, 7)
    assert isinstance(error, PromptStudioError)
    assert (error.message, error.line, error.column, error.location()) == ("boom", 3, 7, "3:7")


#: Jinja-ish fragments to glue at random, plus the characters that matter for positions.
_FRAGMENTS = [
    *"{{ }} {% %} {# #} {%- -%} {{- -}} x y if for in endfor endif set = | upper ( ) [ ] .".split(),
    *"' \" 1 + * ~ is not defined macro endmacro raw endraw user: system: , : with".split(),
    *"endwith loop range % { } block endblock include extends import call filter".split(),
    *["\ufdd0", "\n", "\r\n", " ", "\t"],
]
_FAST = RenderLimits(timeout_seconds=0.5)


def _call_everything(source: str) -> None:
    for call in (find_variables, input_names, role_markers, check):
        try:
            call(source)
        except TemplateError as error:
            assert (error.line, error.column) >= (1, 1)
    try:
        render_messages(source, {"x": [1, 2], "y": "v"}, _FAST)
    except TemplateError as error:
        assert (error.line, error.column) >= (1, 1)


@pytest.mark.parametrize("seed", range(10))
def test_garbage_never_escapes_as_a_raw_jinja_exception(seed: int) -> None:
    """Random fragments: every public function returns or raises a positioned TemplateError."""
    rng = random.Random(seed)
    for _ in range(30):
        _call_everything("".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 25))))
