"""Conversations on the command line: a thread variable given as JSON, ``--turn`` going on
after the answer, and ``run --json`` with the conversation (issue 17)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply

HISTORY = [
    {"role": "user", "content": "It will not switch on."},
    {"role": "assistant", "content": "Is it plugged in?"},
]


def test_a_thread_variable_and_turns_make_one_recorded_conversation(tmp_path: Path) -> None:
    template = tmp_path / "support.prompt"
    template.write_text("system:\nBe brief.\n{{ history }}\nuser:\n{{ question }}\n")
    home = tmp_path / "home"
    with FakeLLM() as server:
        for text in ("Check the fuse.", "Then call us.", "Goodbye."):
            server.script(Reply(text=text), times=1)
        done = cli("run", str(template), "--base-url", server.base_url, "--model", "fake",
                   "--var", f"history={json.dumps(HISTORY)}", "--var", "question=Yes.",
                   "--turn", "It is fine.", "--turn", "Thanks!", "--json",
                   home=home)  # fmt: skip
        assert done.returncode == 0, done.stderr
        last = server.chat_requests()[-1].json["messages"]
    assert [(m["role"], m["content"]) for m in last] == [
        ("system", "Be brief."),
        ("user", "It will not switch on."),
        ("assistant", "Is it plugged in?"),
        ("user", "Yes."),
        ("assistant", "Check the fuse."),
        ("user", "It is fine."),
        ("assistant", "Then call us."),
        ("user", "Thanks!"),
    ]
    summary = json.loads(done.stdout)
    assert summary["text"] == "Goodbye."  # the final answer
    conversation = summary["conversation"]
    assert [m["role"] for m in conversation["messages"]] == ["system", "user", "assistant", "user"]
    assert [(s["turns"], s["text"]) for s in conversation["steps"]] == [
        ([], "Check the fuse."),
        ([{"role": "user", "content": "It is fine."}], "Then call us."),
        ([{"role": "user", "content": "Thanks!"}], "Goodbye."),
    ]
    assert conversation["output_tokens"] == sum(s["output_tokens"] for s in conversation["steps"])

    db = sqlite3.connect(home / "library.sqlite3")
    stored = db.execute("SELECT step, text FROM response_steps ORDER BY step").fetchall()
    answer = db.execute("SELECT text FROM responses").fetchall()
    db.close()
    assert answer == [("Check the fuse.",)]
    assert stored == [(1, "Then call us."), (2, "Goodbye.")]


def test_a_bad_thread_value_stays_text(tmp_path: Path) -> None:
    """A JSON list that is not turns is an ordinary value (no traceback, no turns)."""
    template = tmp_path / "t.prompt"
    template.write_text("{{ history }}\n")
    done = cli("render", str(template), "--var", 'history=[{"role": "robot", "content": "x"}]',
               home=tmp_path / "home")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [message] = json.loads(done.stdout)["messages"]
    assert message["role"] == "user" and "robot" in message["content"]
