"""The one-line text form of checks reads back exactly what it writes, and says what is wrong."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptstudio.evals import (
    ASSERTION_TYPES,
    CheckLineError,
    GraderError,
    check_assertion,
    format_check,
    format_checks,
    parse_check,
    parse_checks,
    reads_as_check,
)

# Text that trips a line-based format: line breaks of every kind, padding, colons, and
# values that look like numbers or JSON. NUL is left out: imported files holding it are
# refused as binary.
TRICKY = st.sampled_from(
    ["\n", "\r\n", "\r", "\u2028", "\x85", "\x0b", " ", "\t", ": ", "{", "42", '{"a":1}', "😀"]
)
TEXT = st.lists(
    st.one_of(TRICKY, st.text(alphabet=st.characters(blacklist_characters="\x00"))), max_size=6
).map("".join)
FILLED = TEXT.filter(bool)
COUNT = st.integers(0, 10_000)
SCHEMAS = st.sampled_from(
    [
        {},
        {"type": "object"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "required": ["a"], "properties": {"a": {"minimum": 0}}},
    ]
)
WORDS = st.one_of(
    COUNT,
    st.tuples(COUNT, COUNT).map(lambda pair: {"min": min(pair), "max": max(pair)}),
    COUNT.map(lambda low: {"min": low}),
    COUNT.map(lambda high: {"max": high}),
)
EQUALS = st.one_of(
    TEXT,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(TEXT, st.integers(), max_size=2),
)
PLAIN = st.from_regex(r"[A-Za-z0-9 ]*[A-Za-z0-9][A-Za-z0-9 ]*", fullmatch=True)
NEEDLES = st.lists(FILLED, min_size=1, max_size=3) | st.lists(PLAIN, min_size=1, max_size=3).map(
    ", ".join
)
REFERENCES = TEXT.filter(str.strip) | st.lists(TEXT.filter(str.strip), min_size=1, max_size=2)
XML_PATHS = st.sampled_from([{"requiredElements": ["root.child"]}, ["a", "a.b"], "a.b, c"])
SQL_OPTIONS = st.sampled_from(
    [
        {"databaseType": "PostgresQL"},
        {"allowedTables": ["select::null::t"]},
        '{"databaseType":"Sqlite"}',
    ]
)
CRITERIA = TEXT.filter(str.strip) | st.lists(TEXT.filter(str.strip), min_size=1, max_size=2)
MILLISECONDS = st.integers(0, 10**6) | st.floats(0, 1e6)
DOLLARS = st.floats(0, 10) | st.integers(0, 10)

# Per type: (required fields, optional fields) of a valid assertion.
FIELDS: dict[str, tuple[dict[str, st.SearchStrategy[Any]], dict[str, st.SearchStrategy[Any]]]] = {
    "equals": ({}, {"value": EQUALS}),
    "contains": ({"value": FILLED}, {}),
    "icontains": ({"value": FILLED}, {}),
    "starts-with": ({"value": FILLED}, {}),
    "regex": ({"value": FILLED.map(re.escape) | st.sampled_from([r"^\d+$", "a|b "])}, {}),
    "is-json": ({}, {"value": SCHEMAS}),
    "contains-json": ({}, {"value": SCHEMAS}),
    "word-count": ({"value": WORDS}, {}),
    "max-length": ({"value": COUNT}, {}),
    "min-length": ({"value": COUNT}, {}),
    "latency": ({"threshold": MILLISECONDS}, {}),
    "cost": ({"threshold": DOLLARS}, {}),
    "llm-rubric": ({"value": TEXT.filter(str.strip)}, {"threshold": st.floats(0, 1)}),
    **{
        name: ({"value": NEEDLES}, {})
        for name in ("contains-any", "contains-all", "icontains-any", "icontains-all")
    },
    "levenshtein": ({"value": TEXT}, {"threshold": st.integers(0, 20)}),
    "rouge-n": ({"value": TEXT.filter(re.compile(r"\w").search)}, {"threshold": st.floats(0, 1)}),
    "bleu": ({"value": REFERENCES}, {"threshold": st.floats(0, 1)}),
    "is-xml": ({}, {"value": XML_PATHS}),
    "contains-xml": ({}, {"value": XML_PATHS}),
    "is-sql": ({}, {"value": SQL_OPTIONS}),
    "contains-sql": ({}, {"value": SQL_OPTIONS}),
    "finish-reason": ({"value": st.sampled_from(["stop", "length", "tool_calls"])}, {}),
    "is-valid-openai-tools-call": ({}, {}),
    "tool-call-f1": (
        {"value": st.lists(st.sampled_from(["get_order_status", "refund"]), min_size=1)},
        {"threshold": st.floats(0, 1)},
    ),
    "contains-tool-call": (
        {"value": st.fixed_dictionaries({"name": st.just("f"), "arguments": st.just({"a": 1})})},
        {},
    ),
    "factuality": ({}, {"value": TEXT.filter(str.strip)}),
    "model-graded-closedqa": ({"value": TEXT.filter(str.strip)}, {}),
    "g-eval": ({"value": CRITERIA}, {"threshold": st.floats(0, 1)}),
    "answer-relevance": ({}, {"threshold": st.floats(0, 1)}),
    "context-faithfulness": ({}, {"threshold": st.floats(0, 1)}),
    "select-best": ({"value": TEXT.filter(str.strip)}, {}),
    "similar": ({}, {"value": CRITERIA, "threshold": st.floats(0, 1)}),
    "perplexity": ({}, {"threshold": st.floats(1, 1000)}),
    "perplexity-score": ({}, {"threshold": st.floats(0, 1)}),
    "python": ({"value": TEXT.filter(lambda t: bool(t.strip()) and "file://" not in t)}, {}),
    "javascript": ({}, {"value": TEXT}),
}
EXTRAS = {"weight": st.integers(0, 5), "metric": TEXT}
ASSERTIONS = st.one_of(
    *(
        st.fixed_dictionaries(
            {"type": st.sampled_from([name, f"not-{name}"]), **required},
            optional={**optional, **EXTRAS},
        )
        for name, (required, optional) in FIELDS.items()
    )
)


def strictly(value: object) -> str:
    """Equal only when the JSON is: 2000 is not 2000.0 here."""
    return json.dumps(value, sort_keys=True)


def test_the_strategy_covers_every_type() -> None:
    assert set(FIELDS) == set(ASSERTION_TYPES)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(ASSERTIONS, max_size=5))
def test_formatted_checks_read_back_identically(checks: list[dict[str, Any]]) -> None:
    for check in checks:
        check_assertion(check)
    text = format_checks(checks)
    assert len(text.splitlines()) == len(checks)
    back = parse_checks(text)
    assert back == checks
    assert strictly(back) == strictly(checks)


@pytest.mark.parametrize(
    ("check", "line"),
    [
        ({"type": "contains", "value": "Paris"}, "contains: Paris"),
        ({"type": "not-regex", "value": r"^\d+$"}, r"not-regex: ^\d+$"),
        ({"type": "is-json"}, "is-json"),
        ({"type": "is-json", "value": {"type": "object"}}, 'is-json: {"type":"object"}'),
        ({"type": "word-count", "value": {"min": 3, "max": 10}}, 'word-count: {"min":3,"max":10}'),
        ({"type": "word-count", "value": 5}, "word-count: 5"),
        ({"type": "max-length", "value": 200}, "max-length: 200"),
        ({"type": "latency", "threshold": 2000}, "latency: 2000"),
        ({"type": "cost", "threshold": 0.002}, "cost: 0.002"),
        ({"type": "llm-rubric", "value": "answers politely"}, "llm-rubric: answers politely"),
        (
            {"type": "is-sql", "value": {"databaseType": "Sqlite"}},
            'is-sql: {"databaseType":"Sqlite"}',
        ),
        ({"type": "contains-any", "value": "Paris, Rome"}, "contains-any: Paris, Rome"),
        ({"type": "equals", "value": "42"}, "equals: 42"),
        ({"type": "contains", "value": " padded"}, "contains:  padded"),
        # What would not read back identically is written whole, as JSON.
        (
            {"type": "llm-rubric", "value": "polite", "threshold": 0.8},
            '{"type":"llm-rubric","value":"polite","threshold":0.8}',
        ),
        (
            {"value": "x", "type": "contains", "weight": 2},
            '{"type":"contains","value":"x","weight":2}',
        ),
        ({"type": "contains", "value": "a\nb"}, '{"type":"contains","value":"a\\nb"}'),
        ({"type": "contains", "value": "a\u2028b"}, '{"type":"contains","value":"a\\u2028b"}'),
        ({"type": "contains", "value": "trailing "}, '{"type":"contains","value":"trailing "}'),
        ({"type": "equals", "value": 42}, '{"type":"equals","value":42}'),
        ({"type": "equals", "value": ""}, '{"type":"equals","value":""}'),
        ({"type": "latency", "threshold": 2000.0}, "latency: 2000.0"),
    ],
)
def test_format_check(check: dict[str, Any], line: str) -> None:
    assert format_check(check) == line
    assert parse_check(line) == check


@pytest.mark.parametrize(
    ("line", "check"),
    [
        ("contains:Paris", {"type": "contains", "value": "Paris"}),
        ("icontains: paris  ", {"type": "icontains", "value": "paris"}),
        ("  starts-with: Dear", {"type": "starts-with", "value": "Dear"}),
        ("not-contains: a: b", {"type": "not-contains", "value": "a: b"}),
        ('equals: {"a": 1}', {"type": "equals", "value": '{"a": 1}'}),
        ("equals", {"type": "equals"}),
        ("contains-json", {"type": "contains-json"}),
        ("not-is-json:", {"type": "not-is-json"}),
        ("min-length: 3", {"type": "min-length", "value": 3}),
        ("latency: 1e3", {"type": "latency", "threshold": 1000.0}),
        ("latency(2000)", {"type": "latency", "threshold": 2000}),
        ("llm-rubric(0.8): polite", {"type": "llm-rubric", "value": "polite", "threshold": 0.8}),
        (' {"type": "regex", "value": "a+"}', {"type": "regex", "value": "a+"}),
    ],
)
def test_parse_check(line: str, check: dict[str, Any]) -> None:
    assert parse_check(line) == check


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "empty"),
        ("contains: a\nb", "one line"),
        ("contains Paris", "Put a colon after the type: 'contains: Paris'"),
        ("foo: bar", "Unknown check type 'foo'. Known types: equals, contains, "),
        ("not-foo", "Unknown check type 'not-foo'"),
        (": bar", "starts with its type"),
        ("{'type': 'contains'}", "not valid JSON .*at character 2"),
        ('{"type": "cost", "threshold": NaN}', "not valid JSON"),
        ("latency: fast", "threshold of 'latency' must be a number"),
        ("latency(x)", "threshold of 'latency' must be a number"),
        ("latency(1): 2", "two thresholds"),
        ("max-length: -1", "whole number"),
        ("word-count: 3-5", "whole number"),
        ("is-json: {type: object}", "'is-json' is not valid JSON"),
        ("is-json: [1]", "must be a JSON Schema"),
        ("contains", "needs a 'value'"),
        ("regex: [", "invalid"),
        ('word-count: {"min": 5, "max": 2}', "greater than max"),
        ("latency: -5", "cannot be negative"),
        ("latency", "needs a 'threshold'"),
        ('{"type": "llm-rubric", "value": "x", "threshold": 2}', "between 0 and 1"),
    ],
)
def test_parse_check_errors(line: str, message: str) -> None:
    with pytest.raises(GraderError, match=message):
        parse_check(line)


def test_parse_checks_skips_blank_lines_and_counts_them() -> None:
    text = "contains: a\r\n\n  \nis-json\rmax-length: 5\n"
    assert parse_checks(text) == [
        {"type": "contains", "value": "a"},
        {"type": "is-json"},
        {"type": "max-length", "value": 5},
    ]
    assert parse_checks("") == []
    with pytest.raises(CheckLineError) as caught:
        parse_checks("contains: a\n\nmax-length: lots\n")
    assert caught.value.line == 3
    assert caught.value.message.startswith("Line 3: The value of 'max-length'")
    assert isinstance(caught.value, GraderError)


def test_format_checks_joins_lines() -> None:
    checks = [{"type": "is-json"}, {"type": "not-contains", "value": "sorry"}]
    assert format_checks(checks) == "is-json\nnot-contains: sorry"
    assert format_checks([]) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("contains: Paris", True),
        ("is-json", True),
        (" latency(500) ", True),
        ("regex: [", True),  # a check, if a broken one
        ('{"type": "not-equals", "value": 1}', True),
        ("Paris", False),
        ("Answer: 42", False),
        ("What is 2+2?", False),
        ('{"type": "object"}', False),
        ("{not json", False),
        ("contains: a\nb", False),
        ("", False),
    ],
)
def test_reads_as_check(text: str, expected: bool) -> None:
    assert reads_as_check(text) is expected
