"""Tools through every format: Prompty v2 (loaded by the real prompty package), promptfoo
provider configs, PromptStudio JSON, and the Python and curl snippets (issue 17)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import prompty
import pytest
import yaml
from prompty.providers.openai.executor import _tools_to_wire

from promptstudio.exchange import PromptDocument, from_json, from_prompty, to_json, to_prompty
from promptstudio.exchange.code_snippets import to_curl, to_python_anthropic, to_python_openai
from promptstudio.exchange.promptfoo_format import to_promptfoo
from promptstudio.exchange.promptfoo_import import from_promptfoo
from promptstudio.tools import ToolDef
from tests.exchange.samples import columns
from tests.exchange.test_snippets_run import _run, _run_python
from tests.fake_llm import FakeLLM, Reply

CORPUS = Path(__file__).parent / "prompty_corpus"
ORDER = ToolDef(
    "get_order_status",
    "Look up an order in the order system",
    {
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "The order number"}},
        "required": ["order_id"],
    },
    mock='{"order_id": "{{ order_id }}", "status": "shipped"}',
)
FANCY = ToolDef(  # a schema Prompty's properties cannot say whole
    "search",
    "",
    {"type": "object", "properties": {"q": {"type": "string", "minLength": 2}}},
)


def document(
    server_url: str = "https://api.openai.com/v1", profile: str = "openai"
) -> PromptDocument:
    column = {
        "id": "c1",
        "profile": profile,
        "base_url": server_url,
        "model": "fake-model",
        "params": {"tool_choice": "get_order_status", "parallel_tool_calls": "no"},
    }
    return PromptDocument(
        name="Support",
        template="user:\nWhere is order {{ order }}?",
        variables={"order": "A-17"},
        columns=columns(column),
        tools=[ORDER, FANCY],
    )


def test_prompty_export_loads_in_prompty_with_function_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "placeholder-for-load")
    doc = document()
    text = to_prompty(doc)
    front = yaml.safe_load(text.split("---\n")[1])
    assert [tool["kind"] for tool in front["tools"]] == ["function", "function"]
    path = tmp_path / "support.prompty"
    path.write_text(text, encoding="utf-8")
    agent = prompty.load(str(path))
    wire = _tools_to_wire(agent)
    assert wire is not None
    assert wire[0]["function"] == ORDER.openai_function()  # Prompty sends what we send
    back = from_prompty(text)
    assert back.tools == doc.tools  # exact: schemas and mocks
    assert back.columns[0].params.tool_choice == "get_order_status"
    assert not any("tool" in note for note in back.notes)


def test_a_foreign_prompty_files_tools_are_read_as_prompty_sends_them() -> None:
    path = CORPUS / "structured.prompty"
    doc = from_prompty(path.read_text(encoding="utf-8"), base_dir=CORPUS)
    wire = _tools_to_wire(prompty.load(str(path)))
    assert wire is not None
    assert [tool.openai_function() for tool in doc.tools] == [w["function"] for w in wire]


def test_other_tool_kinds_are_noted_not_kept() -> None:
    text = "---\nname: x\ntools:\n  - name: files\n    kind: mcp\n---\nuser:\nhi\n"
    doc = from_prompty(text)
    assert doc.tools == []
    assert doc.notes == ["Tools not kept (only kind: function is): files (mcp)."]


def test_json_is_lossless() -> None:
    doc = document()
    assert from_json(to_json(doc)).tools == doc.tools
    bad = json.loads(to_json(doc))
    bad["tools"][0]["parameters"] = {"type": "strin"}
    with pytest.raises(Exception, match="tools"):
        from_json(json.dumps(bad))


@pytest.mark.parametrize("profile", ["openai", "anthropic"])
def test_promptfoo_carries_tools_in_the_provider_config(profile: str) -> None:
    url = "https://api.anthropic.com" if profile == "anthropic" else "https://api.openai.com/v1"
    doc = document(url, profile)
    config = yaml.safe_load(to_promptfoo(doc))
    provider = config["providers"][0]["config"]
    if profile == "anthropic":
        assert provider["tools"][0]["input_schema"] == ORDER.parameters
        assert provider["tool_choice"] == {
            "type": "tool",
            "name": "get_order_status",
            "disable_parallel_tool_use": True,
        }
    else:
        assert provider["tools"][0] == {"type": "function", "function": ORDER.openai_function()}
        assert provider["parallel_tool_calls"] is False
    [back] = from_promptfoo(to_promptfoo(doc))
    assert [(t.name, t.description, t.parameters) for t in back.tools] == [
        (t.name, t.description, t.parameters) for t in doc.tools
    ]  # promptfoo has no place for the mocks
    assert back.columns[0].params.tool_choice == "get_order_status"
    assert back.columns[0].params.parallel_tool_calls == "no"


def test_python_snippets_send_the_tools_and_print_the_calls(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    calls = [("get_order_status", '{"order_id": "A-17"}')]
    fake_llm.script(Reply(text="", tool_calls=calls))
    openai_doc = document(fake_llm.base_url, "")
    result = _run_python(to_python_openai(openai_doc, openai_doc.variables), tmp_path)
    assert "tool call: get_order_status" in result.stdout and "A-17" in result.stdout
    body = fake_llm.chat_requests()[-1].json
    assert body["tools"][0]["function"]["name"] == "get_order_status"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_order_status"}}

    anthropic_doc = document(fake_llm.anthropic_base_url, "anthropic")
    result = _run_python(to_python_anthropic(anthropic_doc, anthropic_doc.variables), tmp_path)
    assert "tool call: get_order_status {'order_id': 'A-17'}" in result.stdout
    body = fake_llm.messages_requests()[-1].json
    assert body["tools"][0]["input_schema"] == ORDER.parameters


def test_curl_snippet_sends_the_tools(fake_llm: FakeLLM, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    doc = document(fake_llm.base_url, "")
    _run(["bash", "-c", to_curl(doc, doc.variables)], tmp_path)
    body = fake_llm.chat_requests()[-1].json
    assert [tool["function"]["name"] for tool in body["tools"]] == ["get_order_status", "search"]
    assert body["parallel_tool_calls"] is False


def test_tool_parameters_and_outputs_share_one_property_schema() -> None:
    """Prompty properties become JSON Schema in one place (prompty_schema), for a tool's
    parameters (only the required listed) and for structured output (strict)."""
    from promptstudio.exchange.prompty_schema import object_schema, outputs_schema

    properties: list[dict[str, Any]] = [
        {"name": "city", "kind": "string", "required": True, "enumValues": ["Paris", "Rome"]},
        {"name": "tags", "kind": "array", "items": {"kind": "integer"}},
    ]
    text = (
        "---\nname: x\ntools:\n  - name: find\n    kind: function\n    parameters:\n"
        + "".join(f"      - {json.dumps(prop)}\n" for prop in properties)
        + "---\nuser:\nhi\n"
    )
    tool = from_prompty(text).tools[0]
    assert tool.parameters == object_schema(properties, strict=False)
    assert tool.parameters["required"] == ["city"]
    strict = outputs_schema(properties)["schema"]
    assert strict == object_schema(properties, strict=True)
    assert strict["properties"]["tags"]["type"] == ["array", "null"]
