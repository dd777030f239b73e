"""The tool-call checks, graded on answers with calls."""

from __future__ import annotations

import pytest

from promptstudio.chat import ToolCall
from promptstudio.evals.graders import Answer, GraderError, check_assertion, grade
from promptstudio.tools import ToolDef

ORDER = ToolDef(
    "get_order_status",
    "Look up an order",
    {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
)
REFUND = ToolDef("refund", "Refund an order", {"type": "object"})


def answer(*calls: tuple[str, str]) -> Answer:
    made = tuple(ToolCall(f"c{n}", name, args) for n, (name, args) in enumerate(calls))
    return Answer("", tool_calls=made, tools=(ORDER, REFUND), finish_reason="tool_calls")


def test_valid_tools_call_checks_every_call_against_its_schema() -> None:
    check = {"type": "is-valid-openai-tools-call"}
    assert grade(check, answer(("get_order_status", '{"order_id": "A1"}'))).passed
    bad = grade(check, answer(("get_order_status", '{"order_id": 7}')))
    assert not bad.passed and "order_id" in bad.reason
    assert not grade(check, answer(("launch", "{}"))).passed
    assert not grade(check, Answer("just text")).passed


def test_tool_call_f1_scores_the_names() -> None:
    both = answer(("get_order_status", "{}"), ("refund", "{}"))
    check = {"type": "tool-call-f1", "value": ["get_order_status"]}
    result = grade(check, both)
    assert result.score == pytest.approx(2 / 3) and not result.passed
    assert grade({**check, "threshold": 0.6}, both).passed
    assert grade({"type": "tool-call-f1", "value": "refund, get_order_status"}, both).score == 1


def test_contains_tool_call_matches_a_json_subset() -> None:
    called = answer(("get_order_status", '{"order_id": "A1", "verbose": true}'))
    check = {
        "type": "contains-tool-call",
        "value": {"name": "get_order_status", "arguments": {"order_id": "A1"}},
    }
    assert grade(check, called).passed
    other = {**check, "value": {"name": "get_order_status", "arguments": {"order_id": "B2"}}}
    assert not grade(other, called).passed
    assert grade({"type": "contains-tool-call", "value": "get_order_status"}, called).passed
    assert not grade({"type": "contains-tool-call", "value": "refund"}, called).passed


def test_finish_reason_reads_tool_calls_and_tool_use() -> None:
    check = {"type": "finish-reason", "value": "tool_calls"}
    assert grade(check, answer(("refund", "{}"))).passed
    assert grade(check, Answer("", finish_reason="tool_use")).passed


def test_malformed_tool_checks_are_refused() -> None:
    with pytest.raises(GraderError):
        check_assertion({"type": "tool-call-f1"})
    with pytest.raises(GraderError):
        check_assertion({"type": "contains-tool-call", "value": {"arguments": {}}})
