"""Tool definitions: the panel's JSON read with positions, arguments checked, storage."""

from __future__ import annotations

import pytest

from promptstudio.chat import Message, ToolCall
from promptstudio.session import Content, Session
from promptstudio.tools import (
    ToolDef,
    ToolsError,
    argument_error,
    parse_tools,
    text_with_tools,
    tools_text,
)

GOOD = """[
  {
    "name": "get_order_status",
    "description": "Look up an order",
    "parameters": {
      "type": "object",
      "properties": {"order_id": {"type": "string"}},
      "required": ["order_id"]
    }
  }
]"""


def test_reads_tools_and_writes_them_back() -> None:
    tools = parse_tools(GOOD)
    assert tools[0].name == "get_order_status"
    assert parse_tools(tools_text(tools)) == tools
    assert parse_tools("  ") == ()


def test_openai_wrapped_tools_are_read() -> None:
    wrapped = '[{"type": "function", "function": {"name": "f", "parameters": {}}}]'
    assert parse_tools(wrapped)[0].name == "f"


def test_a_json_syntax_error_has_its_line_and_column() -> None:
    with pytest.raises(ToolsError) as caught:
        parse_tools('[\n  {"name": "f",\n   "parameters": {]}\n]')
    assert (caught.value.line, caught.value.column) == (3, 19)


def test_a_bad_schema_points_at_the_bad_spot() -> None:
    text = GOOD.replace('{"type": "string"}', '{"type": "strin"}')
    with pytest.raises(ToolsError) as caught:
        parse_tools(text)
    assert caught.value.line == 7
    assert "not a valid JSON Schema" in caught.value.reason


def test_a_missing_name_and_a_name_used_twice_are_refused() -> None:
    with pytest.raises(ToolsError, match="needs a name"):
        parse_tools('[{"parameters": {}}]')
    with pytest.raises(ToolsError, match="used twice") as caught:
        parse_tools('[{"name": "f"},\n {"name": "f"}]')
    assert caught.value.line == 2


def test_arguments_are_checked_against_the_schema() -> None:
    tool = parse_tools(GOOD)[0]
    assert argument_error(tool, '{"order_id": "A1"}') is None
    assert "required" in (argument_error(tool, "{}") or "")
    assert "order_id" in (argument_error(tool, '{"order_id": 5}') or "")
    assert "not JSON" in (argument_error(tool, '{"order_id": ') or "")


def test_tools_are_stored_beside_the_columns_and_old_versions_read_the_same() -> None:
    tools = parse_tools(GOOD)
    content = Content("Hi", {}, (), tools)
    settings = content.settings()
    assert settings["tools"][0]["name"] == "get_order_status"
    assert Content.stored("Hi", {}, settings) == content
    old = Content.stored("Hi", {}, {"columns": []})
    assert old.tools == () and old.settings() == {"columns": []}


def test_the_session_announces_tools_and_marks_dirty() -> None:
    session = Session()
    seen: list[tuple[ToolDef, ...]] = []
    session.events.tools.connect(lambda change: seen.append(change.value))
    session.tools = parse_tools(GOOD)
    assert seen == [parse_tools(GOOD)]
    assert session.content().tools == parse_tools(GOOD)


def test_a_version_diff_text_shows_the_tools() -> None:
    assert text_with_tools("Hi", {"columns": []}) == "Hi"
    shown = text_with_tools("Hi", Content("Hi", {}, (), parse_tools(GOOD)).settings())
    assert '"order_id"' in shown and shown.startswith("Hi\n")


def test_tool_turns_in_openai_chat_shape() -> None:
    call = ToolCall("c1", "f", '{"a": 1}')
    assert Message("assistant", "", tool_calls=(call,)).to_dict()["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
    assert ToolCall.from_dict(call.to_dict()) == call
    assert Message("user", "hi").to_dict() == {"role": "user", "content": "hi"}
