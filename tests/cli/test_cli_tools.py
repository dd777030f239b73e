"""``promptstudio run`` with tools: the calls in --json, mock results with --tool-steps,
every step recorded and its cost counted (issue 17)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptstudio.exchange import PromptDocument, to_json
from promptstudio.tools import ToolDef
from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply

ORDER = ToolDef(
    "get_order_status",
    "Look up an order",
    {"type": "object", "properties": {"order_id": {"type": "string"}}},
    mock='{"order_id": "{{ order_id }}", "status": "shipped"}',
)
CALL = [("get_order_status", '{"order_id": "A-17"}')]


def prompt_file(tmp_path: Path) -> Path:
    doc = PromptDocument(name="Support", template="user:\nWhere is order A-17?", tools=[ORDER])
    path = tmp_path / "support.json"
    path.write_text(to_json(doc), encoding="utf-8")
    return path


def test_run_json_lists_the_tool_calls(tmp_path: Path) -> None:
    with FakeLLM() as server:
        server.script(Reply(text="", tool_calls=CALL))
        done = cli("run", str(prompt_file(tmp_path)), "--base-url", server.base_url,
                   "--model", "m", "--json", home=tmp_path / "home")  # fmt: skip
        [request] = server.chat_requests()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["tool_calls"][0]["function"] == {
        "name": "get_order_status",
        "arguments": '{"order_id": "A-17"}',
    }
    assert out["finish_reason"] == "tool_calls"
    assert request.json["tools"][0]["function"]["name"] == "get_order_status"


def test_tool_steps_send_the_mocks_record_each_step_and_sum_the_cost(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FakeLLM() as server:
        server.script(Reply(text="", tool_calls=CALL), times=1)
        server.script(Reply(text="It has shipped."))
        done = cli("run", str(prompt_file(tmp_path)), "--base-url", server.base_url,
                   "--model", "gpt-4o-mini", "--tool-steps", "5", "--json",
                   home=home)  # fmt: skip
        second = server.chat_requests()[1].json["messages"]
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["text"] == "It has shipped."
    steps = out["conversation"]["steps"]
    assert [s["tool_calls"][0]["function"]["name"] if s["tool_calls"] else None
            for s in steps] == ["get_order_status", None]  # fmt: skip
    assert json.loads(steps[1]["turns"][0]["content"]) == {"order_id": "A-17", "status": "shipped"}
    assert second[-1]["role"] == "tool"
    costs = [s["cost"] for s in steps]
    assert all(c is not None for c in costs)
    assert out["conversation"]["cost"] == sum(costs)
    with sqlite3.connect(home / "library.sqlite3") as conn:
        stored = conn.execute("SELECT text, turns FROM response_steps").fetchall()
        calls = conn.execute("SELECT tool_calls FROM responses").fetchone()[0]
    assert [text for text, _turns in stored] == ["It has shipped."]
    assert json.loads(calls)[0]["function"]["name"] == "get_order_status"


def test_tool_steps_then_turns_make_one_conversation_with_the_tools(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FakeLLM() as server:
        server.script(Reply(text="", tool_calls=CALL), times=1)
        server.script(Reply(text="It has shipped."), times=1)
        server.script(Reply(text="Tomorrow."))
        done = cli("run", str(prompt_file(tmp_path)), "--base-url", server.base_url,
                   "--model", "gpt-4o-mini", "--tool-steps", "5", "--turn", "When?",
                   "--json", home=home)  # fmt: skip
        requests = [r.json for r in server.chat_requests()]
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["text"] == "Tomorrow."
    steps = out["conversation"]["steps"]
    assert [s["text"] for s in steps] == ["", "It has shipped.", "Tomorrow."]
    assert steps[2]["turns"] == [{"role": "user", "content": "When?"}]
    assert len(requests) == 3 and all("tools" in r for r in requests)
    assert [m["role"] for m in requests[2]["messages"]][-3:] == ["tool", "assistant", "user"]
    with sqlite3.connect(home / "library.sqlite3") as conn:
        stored = conn.execute("SELECT text FROM response_steps ORDER BY rowid").fetchall()
    assert [text for (text,) in stored] == ["It has shipped.", "Tomorrow."]
