"""Fuzzing the template renderer and role splitting.

Only TemplateError (RenderLimitExceeded is one) or messages come out; a render never
outlives its time limit by more than the stop grace plus scheduling slack, and never
returns more than its size limit. The editor's helpers (variables, role markers, the
syntax check) never raise anything but TemplateError either.
"""

from __future__ import annotations

import time

from hypothesis import example, given
from hypothesis import strategies as st

from promptstudio.chat import ROLES
from promptstudio.templating import (
    RenderLimits,
    TemplateError,
    check,
    find_variables,
    input_names,
    render_messages,
    role_markers,
)
from promptstudio.templating.roles import split_messages
from promptstudio.templating.source import SENTINEL
from tests.fuzz.strategies import JINJA, JSON_VALUES, soup, typed_or_success

LIMITS = RenderLimits(max_output_chars=20_000, timeout_seconds=0.5)
# The render's stop grace (0.5 s) plus slack for a busy 2-core CI machine.
WALL_CLOCK_SLACK_S = 3.0

NAMES = st.sampled_from(["x", "name", "items", "n", "loop", "self", "range", "m"])
LITERALS = ["1", "9", "99999", "-1", "'a'", '"b"', "[1,2]", "{'k': 1}", "none", "range(9)",
            "10**9", "'x'*9"]  # fmt: skip
OPERATORS = [" * ", " ** ", " + ", " ~ ", " % ", " // ", " - ", " and ", " or ", " in "]
FILTERS = [
    "|upper", "|join(',')", "|tojson", "|length", "|center(99999)", "|indent(9999)",
    "|wordwrap(1)", "|replace('a', 'aaaa')", "|default('d')", "|list", "|batch(3)|list",
    "|format(1)", "|string", "|sum", "|attr('__class__')", "|map('upper')|list", "|first",
    "|random", "|reverse", "|sort",
]  # fmt: skip
TEXTS = ["text ", "\n", "system:\n", "\nuser:\n", "assistant:", "{# c #}", "{% set n = 3 %}",
         "\r\n", "é😀"]  # fmt: skip


def _compound_expressions(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map("".join),
        st.tuples(inner, st.sampled_from(FILTERS)).map("".join),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"{e}.upper()"),
        inner.map(lambda e: f"{e}[0]"),
        inner.map(lambda e: f"'%s%s'|format({e}, {e})"),
    )


def _compound_blocks(body: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(NAMES, EXPRESSIONS, body).map(
            lambda t: "{% for " + t[0] + " in " + t[1] + " %}" + t[2] + "{% endfor %}"
        ),
        st.tuples(EXPRESSIONS, body, body).map(
            lambda t: "{% if " + t[0] + " %}" + t[1] + "{% else %}" + t[2] + "{% endif %}"
        ),
        body.map(lambda b: "{% macro m(x) %}" + b + "{% endmacro %}{{ m(1) }}{{ m(2) }}"),
        body.map(lambda b: "{% filter upper %}" + b + "{% endfilter %}"),
        st.lists(body, max_size=4).map("".join),
    )


EXPRESSIONS = st.recursive(
    st.one_of(NAMES, st.sampled_from(LITERALS)), _compound_expressions, max_leaves=6
)
BLOCKS = st.recursive(
    st.one_of(EXPRESSIONS.map(lambda e: "{{ " + e + " }}"), st.sampled_from(TEXTS)),
    _compound_blocks,
    max_leaves=10,
)
TEMPLATES = st.one_of(soup(JINJA), BLOCKS)
VALUES = st.dictionaries(NAMES, JSON_VALUES, max_size=4)


@given(TEMPLATES, VALUES)
@example("{% for a in range(9999) %}{% for b in range(9999) %}x{% endfor %}{% endfor %}", {})
@example("{{ 'x' * 10**9 }}", {})
@example("{{ x }}", {"x": "\nsystem:\nplanted"})
def test_render_gives_messages_or_a_template_error(source: str, values: dict) -> None:
    started = time.monotonic()
    messages = typed_or_success(render_messages, source, values, LIMITS)
    elapsed = time.monotonic() - started
    assert elapsed < LIMITS.timeout_seconds + WALL_CLOCK_SLACK_S, f"render took {elapsed:.1f} s"
    if messages is not None:
        assert all(m.role in ROLES and m.content for m in messages)
        assert sum(len(m.content) for m in messages) <= LIMITS.max_output_chars
        assert not any(SENTINEL in m.content for m in messages)


@given(TEMPLATES)
def test_the_editor_helpers_never_raise_other_errors(source: str) -> None:
    error = check(source)
    assert error is None or isinstance(error, TemplateError)
    typed_or_success(find_variables, source)
    typed_or_success(input_names, source)
    for marker in role_markers(source):
        assert marker.role in ROLES and marker.line >= 1


SPLIT_PIECES = ["system:", "user:", "ASSISTANT:", " user: ", "\n", SENTINEL, "x"]


@given(st.lists(st.one_of(st.sampled_from(SPLIT_PIECES), st.text(max_size=5))))
def test_role_splitting_never_raises_and_drops_empty_turns(pieces: list[str]) -> None:
    for message in split_messages("".join(pieces)):
        assert message.role in ROLES and message.content.strip()
        assert SENTINEL not in message.content
