"""Fuzzing ``--var NAME=VALUE``: a usage error (CliError) or a value the renderer takes.

The CLI parses each flag with ``promptstudio.cli.parse_values``; the value then fills a
template. Neither step may raise anything but the project's typed errors.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promptstudio.cli import parse_values
from promptstudio.templating import RenderLimits, render_messages
from promptstudio.values import format_value, parse_value
from tests.fuzz.strategies import JSON, JSON_VALUES, soup, typed_or_success

LIMITS = RenderLimits(max_output_chars=50_000, timeout_seconds=1.0)

# Point 9 of issue 14 (owned by the CLI-limits change, not fixed here): a value nested
# ~1,000 deep raises RecursionError from json.loads, and text that is not UTF-8 reaches
# the CLI as surrogates. Both classes are left out of these inputs: values nest at most
# 40 deep and are valid Unicode text. Re-add them when point 9 lands.
NESTED = st.integers(1, 40).flatmap(
    lambda depth: st.sampled_from(["[", '{"a": ']).map(lambda open_: open_ * depth)
)
NAMES = st.one_of(st.sampled_from(["x", "name", "_", "é", "a1", "", " x", "1x", "x y"]),
                  st.text(max_size=6))  # fmt: skip
RAW_VALUES = st.one_of(
    soup(JSON, max_size=20),
    JSON_VALUES.map(lambda value: typed_or_success(format_value, value) or ""),
    NESTED,
    st.text(alphabet=st.characters(blacklist_categories=["Cs"])),
)
FLAGS = st.one_of(
    st.tuples(NAMES, st.sampled_from(["=", "", "=="]), RAW_VALUES).map("".join),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
)


@given(st.lists(FLAGS, max_size=4))
def test_var_flags_parse_or_give_a_usage_error(flags: list[str]) -> None:
    values = typed_or_success(parse_values, flags)
    if values is None:
        return
    template = "user:\n" + "".join(f"{{{{ {name} }}}}\n" for name in values)
    messages = typed_or_success(render_messages, template, values, LIMITS)
    if messages is not None:
        assert sum(len(m.content) for m in messages) <= LIMITS.max_output_chars


@given(RAW_VALUES)
def test_a_value_typed_in_the_variables_form_never_raises(text: str) -> None:
    format_value(parse_value(text))
