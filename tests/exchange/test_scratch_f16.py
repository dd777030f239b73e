from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from promptstudio.exchange import PromptDocument, to_promptfoo
from promptstudio.providers import ProviderProfile
from promptstudio.runs.columns import ColumnConfig
from promptstudio.tools import ToolDef
from tests.exchange.test_promptfoo_real import _promptstudio, _question, promptfoo  # noqa
from tests.fake_llm import FakeLLM, Reply
from tests.promptfoo_cli import run_eval

ROWS: list[tuple[str, dict[str, Any]]] = [
    ("rome", {"type": "cost", "threshold": 1}),
    ("rome", {"type": "python", "value": "output.startswith('It')"}),
    ("rome", {"type": "python", "value": "output.startswith('No')"}),
    ("rome", {"type": "perplexity", "threshold": 5}),
    ("rome", {"type": "perplexity-score", "threshold": 0.1}),
    ("tool", {"type": "is-valid-openai-tools-call"}),
    ("tool", {"type": "tool-call-f1", "value": ["get_weather"]}),
    ("tool", {"type": "contains-tool-call", "value": {"name": "get_weather"}}),
    ("rome", {"type": "llm-rubric", "value": "mentions Rome"}),
    ("rome", {"type": "javascript", "value": "output.includes('Rome')"}),
]


def test_probe(promptfoo, fake_llm: FakeLLM, tmp_path: Path) -> None:
    def answer(model: str, body: dict[str, Any]) -> Reply:
        q = _question(body) if body.get("messages") else ""
        if model == "judge":
            return Reply(text='{"reason": "ok", "score": 1, "pass": true}')
        if q == "tool":
            return Reply(text="", tool_calls=[("get_weather", '{"city": "Rome"}')])
        return Reply(text="It is Rome.")

    fake_llm.respond(answer)
    tool = ToolDef("get_weather", "Weather", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    doc = PromptDocument(
        name="Checks",
        template="user:\nQuestion: {{ q }}\n",
        columns=[ColumnConfig(id="c1", profile="here", base_url=fake_llm.base_url, model="m"),
                 ColumnConfig(id="j", profile="here", base_url=fake_llm.base_url, model="judge")],
        cases=[{"vars": {"q": q}, "assert": [c]} for q, c in ROWS],
        tools=[tool],
    )
    doc.judge_column = "j"
    doc.profiles = [ProviderProfile("here", "openai", "Here", fake_llm.base_url, needs_key=False)]
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(to_promptfoo(doc), encoding="utf-8")
    print(config.read_text())
    process, results = run_eval(config, tmp_path / "out.json", tmp_path / "promptfoo-state")
    for r in results["results"]["results"]:
        if r["provider"]["id"].endswith(":m"):
            print("PF", r["testIdx"], r["success"], (r.get("gradingResult") or {}).get("reason"), r.get("error"))
    home = tmp_path / "home"
    _promptstudio(home, "providers", "add", "here", "--name", "Here", "--kind", "openai", "--base-url", fake_llm.base_url, "--no-key")
    p = _promptstudio(home, "eval", str(config), "--json", "--allow-code-checks", "--judge", "judge", "--fresh")
    print(p.stderr[-2000:])
    data = json.loads(p.stdout)
    cases = {c["id"]: i for i, c in enumerate(data["cases"])}
    models = {column["id"]: column["model"] for column in data["columns"]}
    for cell in data["cells"]:
        if models[cell["column"]] == "m":
            print("PS", cases[cell["case"]], cell["passed"], [g.get("reason") for g in cell.get("grades", [])] if "grades" in cell else cell.get("reason"), cell.get("error"))
    assert False
