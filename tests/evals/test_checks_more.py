"""promptfoo's further checks: pass, fail, the not- form, bad input, and the scores."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptstudio.chat import Message
from promptstudio.evals import (
    ASSERTION_TYPES,
    Answer,
    GraderError,
    check_assertion,
    grade,
    parse_check,
)
from promptstudio.evals.checks_more import (
    DEFAULT_THRESHOLDS,
    TYPES,
    bleu,
    bounded_levenshtein,
    rouge_1,
    split_values,
    treebank_tokens,
)
from promptstudio.evals.results import DONE, CellResult, weighted_score
from promptstudio.providers import Endpoint
from promptstudio.runs import RunSession, RunTarget, TargetStatus
from tests.fake_llm import FakeLLM, Reply

ANSWER = Answer("Paris is the capital of France.", finish_reason="stop")
XML = Answer("<analysis><classification>T-shirt</classification><color>Red</color></analysis>")
XML_IN_TEXT = Answer(f"Sure, here it is:\n{XML.text}\nAnything else?")
SQL = Answer("SELECT name FROM departments WHERE id = 3;")
SQL_IN_TEXT = Answer("Here you go:\n```sql\nSELECT name FROM departments;\n```\nDone.")


def check(type_: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    assertion: dict[str, Any] = {"type": type_, **extra}
    if value is not None:
        assertion["value"] = value
    return assertion


PASSING = [
    (check("contains-any", ["Berlin", "Paris"]), ANSWER),
    (check("contains-all", "Paris, capital"), ANSWER),
    (check("icontains-any", ["berlin", "PARIS"]), ANSWER),
    (check("icontains-all", ["PARIS", "france"]), ANSWER),
    (check("levenshtein", "Paris is the capitol of France", threshold=2), ANSWER),
    (check("rouge-n", "Paris is the capital of France"), ANSWER),
    (check("bleu", "Paris is the capital of France."), ANSWER),
    (check("is-xml", {"requiredElements": ["analysis.color"]}), XML),
    (check("contains-xml", {"requiredElements": ["analysis.classification"]}), XML_IN_TEXT),
    (check("is-sql"), SQL),
    (check("contains-sql"), SQL_IN_TEXT),
    (check("finish-reason", "stop"), ANSWER),
]
FAILING = [
    (check("contains-any", ["Berlin", "Rome"]), ANSWER),
    (check("contains-all", "Paris, Berlin"), ANSWER),
    (check("icontains-any", ["BERLIN"]), ANSWER),
    (check("icontains-all", ["paris", "BERLIN"]), ANSWER),
    (check("levenshtein", "Berlin is the capital of Germany."), ANSWER),
    (check("rouge-n", "Berlin Germany capital city"), ANSWER),
    (check("bleu", "Rome was not built in a day."), ANSWER),
    (check("is-xml"), XML_IN_TEXT),
    (check("contains-xml"), ANSWER),
    (check("is-sql"), SQL_IN_TEXT),
    (check("contains-sql"), ANSWER),
    (check("finish-reason", "length"), ANSWER),
]


def ids(item: tuple[dict[str, Any], Answer]) -> str:
    return str(item[0]["type"])


def test_every_type_is_registered_and_covered_both_ways() -> None:
    assert set(TYPES) <= set(ASSERTION_TYPES)
    assert {a["type"] for a, _ in PASSING} == set(TYPES)
    assert {a["type"] for a, _ in FAILING} == set(TYPES)


@pytest.mark.parametrize("item", PASSING, ids=ids)
def test_checks_pass(item: tuple[dict[str, Any], Answer]) -> None:
    assertion, answer = item
    result = grade(assertion, answer)
    assert result.passed, result.reason
    assert result.grader == assertion["type"] and result.reason


@pytest.mark.parametrize("item", FAILING, ids=ids)
def test_checks_fail(item: tuple[dict[str, Any], Answer]) -> None:
    assertion, answer = item
    result = grade(assertion, answer)
    assert not result.passed, result.reason
    assert result.reason


@pytest.mark.parametrize("item", PASSING + FAILING, ids=ids)
def test_not_inverts_the_verdict_and_the_score(item: tuple[dict[str, Any], Answer]) -> None:
    assertion, answer = item
    plain = grade(assertion, answer)
    negated = grade({**assertion, "type": f"not-{assertion['type']}"}, answer)
    assert negated.passed is not plain.passed
    assert negated.score == pytest.approx(1 - plain.score)
    assert negated.grader == f"not-{assertion['type']}" and "Negated" in negated.reason


# ---- bad input: a message naming the check, never a traceback ----------------------------

BAD = [
    (check("contains-any"), "'contains-any' needs a 'value'"),
    (check("contains-all", []), "'contains-all' needs at least one value"),
    (check("icontains-any", ["a", ""]), "'icontains-any' has an empty value"),
    (check("not-icontains-all", [{"a": 1}]), "values of 'not-icontains-all' must be texts"),
    (check("contains-any", '"Paris, France'), "In 'contains-any', a quoted value is not closed"),
    (check("contains-any", '"a" b'), "In 'contains-any', put a comma after"),
    (check("levenshtein"), "'levenshtein' needs a 'value'"),
    (check("levenshtein", "x", threshold=-1), "threshold of 'levenshtein' cannot be negative"),
    (check("rouge-n", "x", threshold=2), "threshold of 'rouge-n' must be between 0 and 1"),
    (check("rouge-n", "..."), "value of 'rouge-n' has no words"),
    (check("not-bleu", ["  ", ""]), "'not-bleu' needs a 'value'"),
    (check("bleu", ["ok", 3]), "values of 'bleu' must all be texts"),
    (check("is-xml", {"required": ["a"]}), "'is-xml' knows only 'requiredElements'"),
    (check("contains-xml", {"requiredElements": ["a..b"]}), "'a..b' is not an element path"),
    (check("is-sql", "MySQL"), "value of 'is-sql' must be an object"),
    (check("is-sql", {"databaseType": "Oracle9"}), "Unknown databaseType 'Oracle9' in 'is-sql'"),
    (check("contains-sql", {"allowedTables": ["("]}), "allowedTables entry '(' of 'contains"),
    (check("is-sql", {"dialect": "mysql"}), "'is-sql' knows allowedColumns"),
    (check("is-sql", "{not json"), "value of 'is-sql' is not valid JSON"),
    (check("finish-reason"), "'finish-reason' needs a 'value'"),
    (check("contains", "x", weight=-1), "weight of 'contains' must be a number ≥ 0"),
    (check("bleu", "x", weight="heavy"), "weight of 'bleu' must be a number"),
]


@pytest.mark.parametrize(("assertion", "message"), BAD, ids=lambda a: str(a))
def test_bad_checks_say_what_is_wrong(assertion: dict[str, Any], message: str) -> None:
    with pytest.raises(GraderError) as caught:
        check_assertion(assertion)
    assert message in str(caught.value)
    with pytest.raises(GraderError):
        grade(assertion, ANSWER)


# ---- lists of texts ---------------------------------------------------------------------


def test_comma_separated_values_follow_promptfoo() -> None:
    assert list(split_values("t", "a, b ,,c")) == ["a", "b", "c"]
    assert list(split_values("t", '"1,000", in stock')) == ["1,000", "in stock"]
    assert list(split_values("t", r'"say \"hi\"", "a""b"')) == ['say "hi"', 'a"b']
    assert list(split_values("t", "  ")) == []


def test_contains_all_names_what_is_missing() -> None:
    result = grade(check("contains-all", ["Paris", "Berlin", "Rome"]), ANSWER)
    assert "'Berlin', 'Rome'" in result.reason
    assert result.details == {"found": ["Paris"], "missing": ["Berlin", "Rome"]}


def test_numbers_are_looked_for_as_text() -> None:
    assert grade(check("contains-any", [2102650, 3.0]), Answer("population 2102650")).passed
    assert grade(check("contains-all", [3.0]), Answer("3 apples")).passed


def test_one_line_form_reads_comma_separated_values() -> None:
    assertion = parse_check("icontains-all: paris, FRANCE")
    assert assertion == {"type": "icontains-all", "value": "paris, FRANCE"}
    assert grade(assertion, ANSWER).passed


def test_one_line_forms_of_thresholds_and_objects() -> None:
    assert parse_check("levenshtein(2): Paris") == {
        "type": "levenshtein",
        "value": "Paris",
        "threshold": 2,
    }
    assert parse_check('not-is-sql: {"databaseType": "Sqlite"}') == {
        "type": "not-is-sql",
        "value": {"databaseType": "Sqlite"},
    }
    assert parse_check("is-xml: analysis.color") == {"type": "is-xml", "value": "analysis.color"}
    with pytest.raises(GraderError, match="value of 'is-sql' is not valid JSON"):
        parse_check("is-sql: {databaseType: Sqlite}")


# ---- distances and overlap --------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "limit", "distance"),
    [
        ("kitten", "sitting", 5, 3),  # promptfoo's documented example
        ("kitten", "sitting", 3, 3),
        ("kitten", "sitting", 2, None),
        ("", "abc", 5, 3),
        ("same", "same", 0, 0),
        ("flaw", "lawn", 2, 2),
        ("a" * 2000, "a" * 1990 + "b" * 10, 10, 10),
        ("a" * 2000, "b", 5, None),
    ],
)
def test_bounded_levenshtein(first: str, second: str, limit: int, distance: int | None) -> None:
    assert bounded_levenshtein(first, second, limit) == distance
    assert bounded_levenshtein(second, first, limit) == distance


def plain_levenshtein(first: str, second: str) -> int:
    row = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        previous, row[0] = row[0], i
        for j, b in enumerate(second, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (a != b))
    return row[-1]


@settings(max_examples=300, deadline=None, database=None)
@given(st.text("abc", max_size=12), st.text("abc", max_size=12), st.integers(0, 8))
def test_the_banded_distance_agrees_with_the_full_table(
    first: str, second: str, limit: int
) -> None:
    distance = plain_levenshtein(first, second)
    assert bounded_levenshtein(first, second, limit) == (distance if distance <= limit else None)


def test_levenshtein_defaults_to_five_edits() -> None:
    assert DEFAULT_THRESHOLDS["levenshtein"] == 5
    assert grade(check("levenshtein", "hello world"), Answer("hallo wrld!!")).passed
    result = grade(check("levenshtein", "hello world"), Answer("goodbye world"))
    assert not result.passed and "more than 5 edits" in result.reason


def test_rouge_is_promptfoos_f_score_of_the_shared_words_ignoring_case() -> None:
    assert rouge_1("The Cat sat", "the cat sat") == 1.0
    assert rouge_1("the cat", "the cat sat on the mat") == pytest.approx(0.5)  # P 1, R 1/3
    assert rouge_1("the the the", "the cat") == pytest.approx(0.4)  # counts are clipped
    # Punctuation is a token (a full stop only at the end), as in js-rouge's tokenizer:
    # recall alone would pass this one (1.0); promptfoo's F-score is 8/11.
    assert rouge_1("Paris is the capital of France.", "the capital of France") == 8 / 11
    assert treebank_tokens("\"hi\", I can't (go)... ok?") == [
        "``", "hi", "''", ",", "I", "ca", "n't", "(", "go", ")", "...", "ok", "?"
    ]  # fmt: skip
    result = grade(check("rouge-n", "hello world"), Answer("hello there"))
    assert not result.passed and result.score == 0.5 and "0.50" in result.reason
    assert grade(check("rouge-n", "hello world", threshold=0.5), Answer("hello there")).passed


def test_bleu_follows_promptfoos_computation() -> None:
    reference = "The cat sat on the mat."
    assert bleu(reference, [reference]) > 0.999
    # 1- to 4-gram precisions 5/6, 3/5, 2/4, 1/3, no brevity penalty.
    assert bleu("The dog sat on the mat.", [reference]) == pytest.approx((1 / 12) ** 0.25)
    assert 0 < bleu("Dogs run in the park.", [reference]) < 0.001
    assert bleu("The cat sat on mat.", ["The cat sat on mat.", "Cat mat.", "A cat."]) > 0.999
    assert 0 < bleu("The cat sat.", [reference]) < 1
    assert bleu("", [reference]) == 0.0
    assert not grade(check("bleu", reference), Answer("The dog ran in the park.")).passed
    assert grade(check("bleu", ["x y z", reference]), Answer(reference)).passed


# ---- XML --------------------------------------------------------------------------------


def test_is_xml_needs_the_whole_output_and_the_required_elements() -> None:
    missing = grade(check("is-xml", {"requiredElements": ["analysis.size"]}), XML)
    assert not missing.passed and "'analysis.size'" in missing.reason
    assert grade(check("is-xml", "analysis.color, analysis.classification"), XML).passed
    broken = grade(check("is-xml"), Answer("<root><child>Content</child></root"))
    assert not broken.passed and "line 1" in broken.reason
    nested = Answer("<root><parent><child><grandchild>x</grandchild></child></parent></root>")
    assert grade(check("is-xml", ["root.parent.child.grandchild"]), nested).passed
    assert not grade(check("is-xml", ["root.parent.grandchild"]), nested).passed


def test_is_xml_refuses_dtd_subsets() -> None:
    bomb = Answer('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>')
    result = grade(check("is-xml"), bomb)
    assert not result.passed and "DTD" in result.reason


def test_contains_xml_finds_fragments_in_text() -> None:
    wrapped = Answer("Text <wrapper><root><child>Content</child></root></wrapper> more text")
    assert grade(check("contains-xml", ["wrapper.root.child"]), wrapped).passed
    assert grade(check("contains-xml", ["root.child"]), wrapped).passed  # the inner fragment
    assert not grade(check("contains-xml", ["root.other"]), wrapped).passed
    assert grade(check("contains-xml"), Answer("a line break: <br/> here")).passed
    assert not grade(check("contains-xml"), Answer("if a < b and c > d")).passed


# ---- SQL --------------------------------------------------------------------------------


def test_is_sql_refuses_prose_and_broken_statements() -> None:
    for text in ("hello world", "The answer is 42", "SELECT FROM", "SELEC a FROM t", ""):
        result = grade(check("is-sql"), Answer(text))
        assert not result.passed, text
        assert result.reason.startswith("The output is not valid MySQL SQL")


def test_is_sql_reads_two_bare_names_as_a_missing_comma() -> None:
    result = grade(check("is-sql"), Answer("SELECT DISTINCT name title FROM t"))
    assert not result.passed and "'name title' looks like a missing comma" in result.reason
    for text in ("SELECT name AS title FROM t", "SELECT count(*) n FROM t", "SELECT a, b FROM t"):
        assert grade(check("is-sql"), Answer(text)).passed, text
    nested = Answer("SELECT x FROM (SELECT a b FROM t) AS s")
    assert not grade(check("is-sql"), nested).passed


def test_is_sql_takes_a_database_type() -> None:
    postgres = check("is-sql", {"databaseType": "PostgresQL"})
    assert grade(postgres, Answer("SELECT name::text FROM t")).passed
    result = grade(
        check("is-sql", {"databaseType": "TransactSQL"}), Answer("SELECT TOP 5 a FROM t")
    )
    assert result.passed and "TransactSQL" in result.reason
    assert grade(check("is-sql", '{"databaseType": "Sqlite"}'), SQL).passed


def test_is_sql_checks_the_allowed_tables_and_columns() -> None:
    allowed = {
        "allowedTables": ["(select|update|insert|delete)::null::departments"],
        "allowedColumns": ["select::null::(name|id)"],
    }
    assert grade(check("is-sql", allowed), SQL).passed
    other_table = grade(check("is-sql", allowed), Answer("SELECT name FROM salaries"))
    assert not other_table.passed and "select::null::salaries" in other_table.reason
    star = grade(check("is-sql", allowed), Answer("SELECT * FROM departments"))
    assert not star.passed and "select::null::(.*)" in star.reason
    deleting = grade(
        check("is-sql", {"allowedTables": ["select::null::departments"]}),
        Answer("DELETE FROM departments"),
    )
    assert not deleting.passed and "delete::null::departments" in deleting.reason


def test_contains_sql_reads_code_blocks() -> None:
    assert grade(check("contains-sql"), Answer("```\nSELECT `id` FROM `users`;\n```")).passed
    assert not grade(check("contains-sql"), Answer("```python\nSELECT 1\n```")).passed
    bad_block = grade(check("contains-sql"), Answer("```sql\nSELEC x\n```"))
    assert not bad_block.passed and "No code block" in bad_block.reason


# ---- finish reason ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("function_call", "tool_calls"),
        ("refusal", "content_filter"),
        ("max_output_tokens", "length"),
        ("LENGTH", "length"),
        ("stop", "STOP"),
        ("pause_turn", "pause_turn"),
    ],
)
def test_finish_reasons_are_normalised_as_promptfoo_does(reported: str, expected: str) -> None:
    assert grade(check("finish-reason", expected), Answer("x", finish_reason=reported)).passed


def test_an_unknown_finish_reason_fails_both_ways() -> None:
    for type_ in ("finish-reason", "not-finish-reason"):
        result = grade(check(type_, "stop"), Answer("x"))
        assert not result.passed and "did not report" in result.reason


# ---- weights and a case's threshold -----------------------------------------------------


def test_weights_and_a_case_threshold_as_promptfoo_combines_them() -> None:
    """One weighting in the product: the checks' weights travel on grade()'s results and
    ``results.weighted_score`` combines them (checks_more had a second copy)."""
    from promptstudio.evals import checks_more

    assert not hasattr(checks_more, "weighted_verdict")
    checks = [
        check("contains", "a", weight=3),
        check("contains", "b"),
        check("contains", "c", weight=0),
    ]
    grades = tuple(  # as the runner keeps each check's weight on its result
        dataclasses.replace(grade(c, Answer("a")), weight=float(c.get("weight", 1.0)))
        for c in checks
    )
    assert weighted_score(grades) == pytest.approx(3 / 4)
    assert not CellResult("case", "column", DONE, grades=grades).passed
    with_threshold = CellResult("case", "column", DONE, grades=grades, threshold=0.7)
    assert with_threshold.passed and with_threshold.score == pytest.approx(3 / 4)
    assert not CellResult("case", "column", DONE, grades=grades, threshold=0.8).passed


def test_weight_edges() -> None:
    zero = dataclasses.replace(grade(check("contains", "a", weight=0), Answer("a")), weight=0)
    assert zero.passed and weighted_score([zero]) == 0.0
    with pytest.raises(GraderError, match="weight of 'contains'"):
        grade(check("contains", "a", weight=-2), Answer("a"))


# ---- finish-reason on real streams ------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "reported"),
    [
        ({"kind": "openai-compatible", "api": "chat"}, "length"),
        ({"kind": "openai-compatible", "api": "responses"}, "max_output_tokens"),
        ({"kind": "anthropic"}, "max_tokens"),
    ],
    ids=["chat", "responses", "anthropic"],
)
def test_finish_reason_of_a_real_stream_cut_by_the_token_limit(
    fake_llm: FakeLLM, endpoint: dict[str, str], reported: str
) -> None:
    fake_llm.script(Reply(text="A long answer that runs out", finish_reason="length"))
    base_url = fake_llm.anthropic_base_url if endpoint["kind"] == "anthropic" else fake_llm.base_url
    options: dict[str, Any] = {"name": "Fake", "max_retries": 0, **endpoint}
    run_target = RunTarget("a", Endpoint(base_url=base_url, **options), "fake-model")
    results = asyncio.run(RunSession((Message("user", "Go on"),), [run_target]).run())
    result = results["a"]
    assert result.status is TargetStatus.DONE and result.finish_reason == reported
    answer = Answer.from_result(result)
    assert grade(check("finish-reason", "length"), answer).passed
    stopped = grade(check("finish-reason", "stop"), answer)
    said = reported if reported == "length" else f"{reported} (length)"
    assert not stopped.passed and f"stopped for {said}, not stop." in stopped.reason
