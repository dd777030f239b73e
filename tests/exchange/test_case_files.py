"""Test cases survive CSV and JSON Lines, and bad files are refused with the line at fault."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptstudio.evals import reads_as_check
from promptstudio.exchange import MAX_IMPORT_BYTES, ExchangeError
from promptstudio.exchange.case_files import (
    cases_from_csv,
    cases_from_file,
    cases_from_jsonl,
    cases_to_csv,
    cases_to_file,
    cases_to_jsonl,
)
from tests.evals.test_checks_text import ASSERTIONS, TEXT

PROMPTFOO_DOCS_CSV = "question,__expected\nWhat is 2+2?,4\nCapital of France?,contains: Paris\n"
NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), max_size=4, unique=True)
# An expected answer CSV can hold: not blank, and not something read as a check (the
# convention has no escape for those; see test_an_expected_answer_that_reads_as_a_check).
ANSWER = TEXT.map(str.strip).filter(
    lambda text: (
        bool(text) and not reads_as_check(text) and not re.match(r"[a-z-]+[:(]|file://", text)
    )
)
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def csv_cases(names: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Cases the way CSV gives them back: text values, only the keys that are filled."""
    case = st.fixed_dictionaries(
        {"vars": st.fixed_dictionaries({name: TEXT for name in names})},
        optional={
            "description": TEXT.filter(bool),
            "expected": ANSWER,
            "assert": st.lists(ASSERTIONS, min_size=1, max_size=3),
        },
    )
    return st.lists(case, max_size=4).map(lambda cases: [_ordered(case) for case in cases])


def _ordered(case: dict[str, Any]) -> dict[str, Any]:
    return {key: case[key] for key in ("vars", "description", "expected", "assert") if key in case}


JSONL_CASES = st.lists(
    st.fixed_dictionaries(
        {"vars": st.dictionaries(TEXT, JSON_VALUE, max_size=3)},
        optional={
            "description": TEXT,
            "expected": TEXT,
            "assert": st.lists(ASSERTIONS, max_size=3),
        },
    ).map(_ordered),
    max_size=4,
)


# ---- round trips ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None, database=None)
@given(NAMES.filter(bool).flatmap(lambda names: st.tuples(st.just(names), csv_cases(names))))
def test_csv_round_trip(data: tuple[list[str], list[dict[str, Any]]]) -> None:
    names, cases = data
    assert cases_from_csv(cases_to_csv(cases, names)) == cases


@settings(max_examples=150, deadline=None, database=None)
@given(JSONL_CASES)
def test_jsonl_round_trip(cases: list[dict[str, Any]]) -> None:
    text = cases_to_jsonl(cases)
    assert text.count("\n") == len(cases)
    assert cases_from_jsonl(text) == cases


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".ndjson", ".json"])
def test_file_round_trip(tmp_path: Path, suffix: str) -> None:
    cases: list[dict[str, Any]] = [
        {"vars": {"q": 'a, "quoted"\nline'}, "description": "é😀", "expected": "x"},
        {"vars": {"q": ""}, "assert": [{"type": "llm-rubric", "value": "kind", "threshold": 0.5}]},
    ]
    path = tmp_path / f"cases{suffix}"
    cases_to_file(path, cases, ["q"])
    assert cases_from_file(path) == cases
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


# ---- CSV ------------------------------------------------------------------------------


def test_csv_cells_that_are_formulas_are_quoted_and_read_back_as_they_were(
    tmp_path: Path,
) -> None:
    cases = [
        {
            "vars": {"q": '=HYPERLINK("http://evil.example","click")', "n": "-3"},
            "description": "@SUM(A1)",
            "expected": "+1.5",
        },
        {"vars": {"q": "'=already quoted", "n": "\tTAB"}, "expected": "-x"},
    ]
    path = tmp_path / "cases.csv"
    cases_to_file(path, cases, ["q", "n"])
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert rows[1:] == [
        ['\'=HYPERLINK("http://evil.example","click")', "-3", "'@SUM(A1)", "+1.5"],
        ["''=already quoted", "'\tTAB", "", "'-x"],
    ]
    assert cases_from_file(path) == cases


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.text(alphabet="'=+-@\t\r.1x ,\"", max_size=6), min_size=1, max_size=5))
def test_csv_round_trip_of_formula_like_values(values: list[str]) -> None:
    cases = [{"vars": {"v": value}} for value in values]
    assert cases_from_csv(cases_to_csv(cases, ["v"])) == cases


def test_an_expected_answer_is_trimmed_as_promptfoo_trims_it() -> None:
    assert cases_from_csv('q,__expected,__expected1\nx," Paris ",Rome \n') == [
        {"vars": {"q": "x"}, "expected": "Paris", "assert": [{"type": "equals", "value": "Rome"}]}
    ]


def test_csv_as_promptfoos_docs_write_it() -> None:
    assert cases_from_csv(PROMPTFOO_DOCS_CSV) == [
        {"vars": {"question": "What is 2+2?"}, "expected": "4"},
        {
            "vars": {"question": "Capital of France?"},
            "assert": [{"type": "contains", "value": "Paris"}],
        },
    ]


def test_csv_threshold_and_metadata_columns_as_promptfoo_reads_them() -> None:
    text = (
        "question,__threshold,__metadata:category,__metadata:tags[],__expected1,__expected2\n"
        'Capital of France?,0.5,geography,"europe,capitals",contains: Paris,contains: Lyon\n'
        "2+2?,,math,,4,\n"
    )
    two_checks = [{"type": "contains", "value": "Paris"}, {"type": "contains", "value": "Lyon"}]
    assert cases_from_csv(text) == [
        {"vars": {"question": "Capital of France?"}, "assert": two_checks, "threshold": 0.5},
        {"vars": {"question": "2+2?"}, "expected": "4"},
    ]  # the metadata labels filter promptfoo's runs: nothing sent or graded, read past
    written = cases_to_csv(cases_from_csv(text))
    assert written.splitlines()[0] == "question,__threshold,__expected,__expected1,__expected2"
    assert cases_from_csv(written) == cases_from_csv(text)
    jsonl = '{"vars": {"q": "x"}, "threshold": 0.75, "metadata": {"category": "a"}}\n'
    assert cases_from_jsonl(jsonl) == [{"vars": {"q": "x"}, "threshold": 0.75}]
    with pytest.raises(ExchangeError, match="'threshold' must be a number"):
        cases_from_jsonl('{"vars": {"q": "x"}, "threshold": "high"}\n')


def test_csv_keeps_promptfoos_checks_that_are_not_graded_here() -> None:
    text = (
        "q,__expected,__expected1,__expected2\n"
        'x,javascript: output.length > 3,fn: output.startsWith("a"),"similar(0.8): a, b"\n'
        'y,"not-contains-any: a,b",eval:1,\n'
    )
    assert cases_from_csv(text) == [
        {
            "vars": {"q": "x"},
            "assert": [
                {"type": "javascript", "value": "output.length > 3"},
                {"type": "javascript", "value": 'output.startsWith("a")'},
                {"type": "similar", "threshold": 0.8, "value": "a, b"},
            ],
        },
        {
            "vars": {"q": "y"},
            "assert": [
                {"type": "not-contains-any", "value": "a,b"},
                {"type": "javascript", "value": "1"},
            ],
        },
    ]


def test_csv_expected_columns() -> None:
    text = (
        "q,__expected,__expected1,__expected2,__expected3,__description\n"
        'x,is-json,"{""type"":""cost"",""threshold"":1}",not-icontains: y,grade: polite,d\n'
        "y,first,second,,  ,\n"
    )
    assert cases_from_csv(text) == [
        {
            "vars": {"q": "x"},
            "description": "d",
            "assert": [
                {"type": "is-json"},
                {"type": "cost", "threshold": 1},
                {"type": "not-icontains", "value": "y"},
                {"type": "llm-rubric", "value": "polite"},
            ],
        },
        {
            "vars": {"q": "y"},
            "expected": "first",
            "assert": [{"type": "equals", "value": "second"}],
        },
    ]


def test_csv_cells_stay_text_and_empty_cells_stay() -> None:
    text = "\n\nn,empty,__expected\n42,,Answer: 42\n\n7\n"
    assert cases_from_csv(text) == [
        {"vars": {"n": "42", "empty": ""}, "expected": "Answer: 42"},
        {"vars": {"n": "7", "empty": ""}},  # a short row is padded
    ]


@pytest.mark.parametrize(
    "data", ["\ufeffq,__expected\nhi,yo\n", "\ufeffq,__expected\nhi,yo\n".encode()]
)
def test_csv_bom_is_ignored(data: str | bytes) -> None:
    assert cases_from_csv(data) == [{"vars": {"q": "hi"}, "expected": "yo"}]


def test_csv_columns_written() -> None:
    cases: list[dict[str, Any]] = [
        {
            "vars": {"b": 1, "a": "x"},
            "assert": [{"type": "is-json"}, {"type": "max-length", "value": 9}],
        },
        {"vars": {"c": {"k": [1, None]}}, "description": "third", "expected": ""},
    ]
    assert cases_to_csv(cases, ["a", "z"]).splitlines() == [
        "a,z,b,c,__description,__expected1,__expected2",
        "x,,1,,,is-json,max-length: 9",
        ',,,"{""k"":[1,null]}",third,,',
    ]
    assert cases_to_csv([], ["q"]) == "q\n"
    assert cases_to_csv([{"vars": {"q": ""}}]) == 'q\n""\n'


def test_csv_quotes_a_lone_carriage_return() -> None:
    text = cases_to_csv([{"vars": {"q": "a\rb", "r": "c"}}])
    assert text == 'q,r\n"a\rb","c"\n'
    assert cases_from_csv(text) == [{"vars": {"q": "a\rb", "r": "c"}}]


def test_an_expected_answer_that_reads_as_a_check(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="promptstudio.exchange.case_files"):
        text = cases_to_csv([{"vars": {"q": "x"}, "expected": "is-json"}])
    assert "reads as a check" in caplog.text
    assert cases_from_csv(text) == [{"vars": {"q": "x"}, "assert": [{"type": "is-json"}]}]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "The file is empty"),
        ("\n\n", 1, "The file is empty"),
        ("a,b\n1,2\n3,4,5\n", 3, r"Row 3 has 3 cells but the header has 2\."),
        ('a,b\n"multi\nline",2\n3,4,5\n', 4, "Row 3 has 3 cells"),
        ("\na,b\n1,2,3\n", 3, "Row 3 has 3 cells"),
        ("a,,b\n", 1, "Column 2 of the header has no name"),
        ("a,b,a\n", 1, "two columns named 'a'"),
        ("a,__foo\n", 1, "Unknown column '__foo': the special columns are __description, "),
        ("a,__prefix\n", 1, "The column '__prefix' is promptfoo's text added before"),
        ("a,__suffix\n", 1, "cannot change the prompt"),
        ("a,__threshold\nx,high\n", 2, "Row 2, __threshold: 'high' is not a number"),
        ("a,__expected\nx,ok\ny,max-length: lots\n", 3, "Row 3, __expected: The value of"),
        ("a,__expected1\nx,contains\n", 2, "needs a 'value'"),
        ("a,__expected\nx,file://grader.py\n", 2, "Checks read from files"),
        ('a\nok\n"never closed\n\n', 3, "quoted cell is never closed"),
        ('a\n"x"y\n', 2, "cannot be read"),
    ],
)
def test_csv_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(ExchangeError, match=message) as caught:
        cases_from_csv(text)
    assert caught.value.line == line
    assert caught.value.message.startswith(f"Line {line}: ")


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ([{"vars": {"__expected": "x"}}], "'__expected' cannot be a CSV column"),
        ([{"vars": {"": "x"}}], "'' cannot be a CSV column"),
        ([{"vars": {}}], "nothing to write"),
    ],
)
def test_csv_export_errors(cases: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ExchangeError, match=message):
        cases_to_csv(cases)


# ---- JSON Lines and JSON --------------------------------------------------------------


def test_jsonl_reading() -> None:
    text = (
        '{"question": "bare variables"}\r\n'
        "\n"
        '{"vars": {"q": 1}, "description": null, "metadata": {"expected": "4"}, "options": {}}\n'
        '{"description": "no vars"}\n'
    )
    assert cases_from_jsonl(text) == [
        {"vars": {"question": "bare variables"}},
        {"vars": {"q": 1}, "expected": "4"},
        {"vars": {}, "description": "no vars"},
    ]
    assert cases_from_jsonl("") == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"vars": {}}\n{"vars": \n', 2, "not valid JSON"),
        ('{"vars": {}}\n\n[1, 2]\n', 3, "must be a JSON object"),
        ('{"vars": {"x": NaN}}\n', 1, "not valid JSON"),
        ('{"vars": {}, "question": "x"}\n', 1, "Unknown key 'question'"),
        ('{"vars": [1]}\n', 1, "'vars' must be an object"),
        ('{"vars": {}, "description": 3}\n', 1, "'description' must be text"),
        ('{"vars": {}, "expected": ["x"]}\n', 1, "'expected' must be text"),
        ('{"vars": {}, "assert": {"type": "is-json"}}\n', 1, "'assert' must be a list"),
        ('{"vars": {}, "assert": [{"type": "nope"}]}\n', 1, "Check 1: Unknown check type 'nope'"),
    ],
)
def test_jsonl_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(ExchangeError, match=message) as caught:
        cases_from_jsonl(text)
    assert caught.value.line == line


def test_json_files(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"vars": {"q": "x"}}, {"q": "bare"}]))
    assert cases_from_file(listed) == [{"vars": {"q": "x"}}, {"vars": {"q": "bare"}}]
    config = tmp_path / "promptfoo.json"
    tests = [{"vars": {"q": "x"}, "assert": [{"type": "contains", "value": "y"}]}]
    config.write_text(json.dumps({"prompts": ["{{q}}"], "tests": tests}))
    assert cases_from_file(config) == tests


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ('[\n{"vars": {}},\n{"vars": }\n]', 3, "not valid JSON"),
        ('{"vars": {}}', 1, "a list of cases"),
        ('{"tests": "file://tests.csv"}', 1, "a list of cases"),
        ('[{"vars": {}}, "file://more.yaml"]', None, "Test case 2: A test case must be a JSON"),
        ('[{"vars": {}, "assert": [{"type": "latency"}]}]', None, "Test case 1: Check 1: "),
    ],
)
def test_json_file_errors(tmp_path: Path, content: str, line: int | None, message: str) -> None:
    path = tmp_path / "cases.json"
    path.write_text(content)
    with pytest.raises(ExchangeError, match=f"cases.json.*{message}") as caught:
        cases_from_file(path)
    assert caught.value.line == line


# ---- files ----------------------------------------------------------------------------


def test_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("a,b\n1,2,3\n")
    with pytest.raises(ExchangeError, match=r"^cases\.csv, line 2: Row 2 has 3 cells") as caught:
        cases_from_file(path)
    assert caught.value.line == 2
    with pytest.raises(ExchangeError, match=r"missing\.csv: cannot be read"):
        cases_from_file(tmp_path / "missing.csv")
    with pytest.raises(ExchangeError, match=r"cases\.txt: test cases are kept in \.csv"):
        cases_from_file(tmp_path / "cases.txt")
    with pytest.raises(ExchangeError, match=r"cases\.yaml: test cases are kept in"):
        cases_to_file(tmp_path / "cases.yaml", [])


def test_big_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as file:
        file.truncate(MAX_IMPORT_BYTES + 1)  # sparse: refused by its size, before reading
    with pytest.raises(ExchangeError, match=r"big\.jsonl: The file is 10\.0 MB"):
        cases_from_file(path)
    with pytest.raises(ExchangeError, match="MB"):
        cases_from_csv(b"q\n" + b"x" * MAX_IMPORT_BYTES)
    with pytest.raises(ExchangeError, match="binary") as caught:
        cases_from_jsonl(b'{"vars": {}}\n\x00')
    assert caught.value.line == 2


def test_promptfoos_model_graded_embedding_and_code_checks_read_from_csv() -> None:
    text = (
        "q,__expected1,__expected2,__expected3\n"
        'x,similar(0.8): Paris,python: len(output) > 3,"factuality: Paris is, the capital"\n'
    )
    [case] = cases_from_csv(text)
    assert case["assert"] == [
        {"type": "similar", "value": "Paris", "threshold": 0.8},
        {"type": "python", "value": "len(output) > 3"},
        {"type": "factuality", "value": "Paris is, the capital"},
    ]
