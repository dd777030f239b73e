"""Input variables and their exact positions in the source."""

from __future__ import annotations

import pytest

from promptstudio.templating import TemplateError, VariableUse, find_variables, input_names


def spots(source: str) -> list[tuple[str, int, int]]:
    return [(use.name, use.line, use.column) for use in find_variables(source)]


def test_simple_use_has_line_column_offset_and_length() -> None:
    assert find_variables("Hi {{ name }}!") == [VariableUse("name", 1, 7, 6, 4)]


def test_offsets_point_at_the_name_in_the_source() -> None:
    source = "a {{ first }}\n  {{ second|upper }} {{ first }}"
    for use in find_variables(source):
        assert source[use.offset : use.offset + use.length] == use.name


def test_filters_attributes_tests_and_keyword_names_are_not_inputs() -> None:
    source = "{{ user.name|title }} {{ n is divisibleby d }} {{ f(key=v) }} {{ x is not defined }}"
    assert spots(source) == [
        ("user", 1, 4),
        ("n", 1, 26),
        ("d", 1, 43),
        ("f", 1, 51),
        ("v", 1, 57),
        ("x", 1, 66),
    ]


def test_filter_arguments_are_uses() -> None:
    assert spots("{{ a|default(b) }}") == [("a", 1, 4), ("b", 1, 14)]


def test_loop_and_set_variables_are_not_inputs() -> None:
    source = (
        "{% set total = price * qty %}{{ total }}\n"
        "{% for item in items %}{{ item.name }} {{ loop.index }}{% endfor %}"
    )
    assert input_names(source) == ["price", "qty", "items"]
    assert spots(source) == [("price", 1, 16), ("qty", 1, 24), ("items", 2, 16)]


def test_a_name_both_bound_and_free_counts_only_where_it_reads_the_input() -> None:
    source = "{{ x }}{% set x = 1 %}{{ x }}|{% for i in i %}{{ i }}{% endfor %}"
    assert spots(source) == [("x", 1, 4), ("i", 1, 43)]


def test_with_block_and_macro_parameters_are_local() -> None:
    source = "{% with w = v %}{{ w }}{% endwith %}{% macro m(p, q=r) %}{{ p }}{{ q }}{% endmacro %}"
    assert input_names(source) == ["v", "r"]


def test_globals_such_as_range_are_not_inputs() -> None:
    assert input_names("{{ range(n)|list }} {{ dict(a=1) }}") == ["n"]


def test_every_occurrence_in_source_order() -> None:
    assert spots("{{ b }}{{ a }}\n{{ b }}") == [("b", 1, 4), ("a", 1, 11), ("b", 2, 4)]
    assert input_names("{{ b }}{{ a }}\n{{ b }}") == ["b", "a"]


def test_whitespace_control_does_not_shift_positions() -> None:
    source = "top\n   {%- if flag -%}\n    {{-  value  -}}   {%- endif %}  {{ tail }}"
    assert spots(source) == [("flag", 2, 11), ("value", 3, 10), ("tail", 3, 40)]


def test_multiline_tags() -> None:
    source = "{{\n   first\n   ~ second\n}}{% if\n  cond %}{% endif %}"
    assert spots(source) == [("first", 2, 4), ("second", 3, 6), ("cond", 5, 3)]


def test_comments_and_raw_blocks_hold_no_variables() -> None:
    source = "{# {{ hidden }} #}{% raw %}{{ literal }}{% endraw %}{{ shown }}"
    assert spots(source) == [("shown", 1, 56)]


def test_positions_refer_to_newline_normalised_source() -> None:
    uses = find_variables("a\r\n{{ x }}\rb {{ y }}")
    assert [(u.name, u.line, u.column, u.offset) for u in uses] == [
        ("x", 2, 4, 5),
        ("y", 3, 6, 15),
    ]


def test_no_variables() -> None:
    assert find_variables("plain text") == []
    assert input_names("") == []


@pytest.mark.parametrize("func", [find_variables, input_names])
def test_syntax_error_raises_template_error(func: object) -> None:
    with pytest.raises(TemplateError) as caught:
        func("{{ x }")  # type: ignore[operator]
    assert caught.value.location() == "1:6"
