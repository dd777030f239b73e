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

# Values nest up to far past the parser's limit (values.MAX_DEPTH: deeper is a typed usage
# error, where json.loads would have raised RecursionError at ~1,000), and text may hold
# lone surrogates (how Python keeps argv bytes that are not UTF-8; the CLI refuses those
# before parsing, the form must not crash on them either).
NESTED = st.integers(1, 3000).flatmap(
    lambda depth: st.sampled_from(["[", '{"a": ', "[1, "]).map(lambda open_: open_ * depth)
)
NAMES = st.one_of(st.sampled_from(["x", "name", "_", "é", "a1", "", " x", "1x", "x y"]),
                  st.text(max_size=6))  # fmt: skip
RAW_VALUES = st.one_of(
    soup(JSON, max_size=20),
    JSON_VALUES.map(lambda value: typed_or_success(format_value, value) or ""),
    NESTED,
    NESTED.map(lambda text: text + "0" + "]" * (len(text) // 4)),
    st.text(),
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
