"""Imported run settings follow the editor's rules (one table), in every format."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promptstudio.exchange import (
    ExchangeError,
    PromptDocument,
    from_json,
    from_markdown,
    from_promptfoo,
    from_prompty,
    to_json,
    to_markdown,
)
from promptstudio.exchange.document import columns_to_dicts
from promptstudio.exchange.formats import import_file
from promptstudio.providers import GenerationParams
from promptstudio.providers.param_rules import PARAM_RULES, ParamError, checked_params
from tests.cli.test_cli import cli
from tests.exchange.samples import columns

# (settings, the setting named, what the message says it may be)
BAD = [
    ({"temperature": "hot"}, "temperature", "a number from 0 to 2"),
    ({"temperature": True}, "temperature", "a number from 0 to 2"),
    ({"temperature": 2.5}, "temperature", "a number from 0 to 2"),
    ({"max_tokens": -5}, "max_tokens", "a whole number from 1 to 1000000"),
    ({"max_tokens": 12.5}, "max_tokens", "a whole number from 1 to 1000000"),
    ({"top_p": 7}, "top_p", "a number from 0 to 1"),
    ({"stop": [1, 2]}, "stop", "a list of texts"),
    ({"seed": -1}, "seed", "a whole number from 0 to 2147483647"),
    ({"top_k": 0}, "top_k", "a whole number from 1 to 1000"),
    ({"reasoning_effort": "extreme"}, "reasoning_effort", "one of low, medium, high"),
    ({"thinking_budget": "lots"}, "thinking_budget", "a whole number from 1 to 200000"),
    ({"json_mode": "yes"}, "json_mode", "true or false"),
    ({"json_schema": [1]}, "json_schema", "a JSON object"),
]
GOOD = {"temperature": 0.7, "top_p": 1, "max_tokens": 256, "stop": ["END", ""], "seed": 0,
        "top_k": 40, "reasoning_effort": "low", "thinking_budget": 2048, "json_mode": True,
        "json_schema": {"type": "object"}, "frequency_penalty": 0.5}  # fmt: skip


def _doc(params: dict[str, Any]) -> PromptDocument:
    column = {"id": "c1", "profile": "", "base_url": "http://localhost:8080/v1",
              "model": "m", "params": params}  # fmt: skip
    return PromptDocument(name="P", template="user:\nhi\n", columns=columns(column))


def test_every_setting_of_generation_params_has_a_rule() -> None:
    assert set(PARAM_RULES) == set(GenerationParams.__dataclass_fields__)


def test_good_settings_pass_and_unknown_ones_are_kept() -> None:
    assert checked_params(GOOD) == GOOD
    assert checked_params({"max_tokens": 100.0, "stop": "END", "seed": None}) == {
        "max_tokens": 100, "stop": ["END"], "seed": None,
    }  # fmt: skip


@pytest.mark.parametrize(("params", "name", "allowed"), BAD)
def test_a_bad_setting_names_itself_and_its_rule(
    params: dict[str, Any], name: str, allowed: str
) -> None:
    with pytest.raises(ParamError, match=f"^{name}: .* is not allowed; it must be {allowed}$"):
        checked_params(params)


def _files_with(params: dict[str, Any]) -> list[tuple[Any, str]]:
    """A JSON and a Markdown file whose one column holds ``params`` as written."""
    doc = _doc({})
    data = json.loads(to_json(doc))
    data["columns"][0]["params"] = params
    markdown = to_markdown(doc)
    models = json.dumps(columns_to_dicts(doc.columns), indent=2, ensure_ascii=False)
    assert models in markdown
    bad = json.dumps(data["columns"], indent=2, ensure_ascii=False)
    return [(from_json, json.dumps(data)), (from_markdown, markdown.replace(models, bad))]


@pytest.mark.parametrize(("params", "name", "allowed"), BAD)
def test_json_and_markdown_refuse_bad_settings(
    params: dict[str, Any], name: str, allowed: str
) -> None:
    for read, text in _files_with(params):
        with pytest.raises(ExchangeError) as caught:
            read(text)
        assert f"Run column 1 (model m), {name}: " in caught.value.message
        assert allowed in caught.value.message
    [(_, text), _markdown] = _files_with(GOOD)  # a setting no run column has is named
    back = from_json(text)
    kept = {name: value for name, value in GOOD.items() if name != "frequency_penalty"}
    assert back.columns[0].params.to_dict() == kept
    assert back.notes == ["Run column 1 (model m): frequency_penalty not kept (not a run setting)."]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("  options:\n    temperature: hot\n", 'temperature: "hot" is not allowed'),
        ("  options:\n    maxOutputTokens: -5\n", "max_tokens: -5 is not allowed"),
        ("  options:\n    topP: 7\n", "top_p: 7 is not allowed; it must be a number from 0 to 1"),
        ("  options:\n    stopSequences: [1, 2]\n", r"stop: \[1, 2\] is not allowed"),
    ],
)
def test_prompty_refuses_bad_settings(options: str, message: str) -> None:
    text = f"---\nname: P\nmodel:\n  id: gpt-4o\n{options}---\nuser:\nhi\n"
    with pytest.raises(ExchangeError, match=message):
        from_prompty(text)
    v1 = (
        "---\nname: P\nmodel:\n  configuration: {type: openai, name: g}\n"
        "  parameters: {top_p: 7}\n---\nhi"
    )
    with pytest.raises(ExchangeError, match="top_p: 7 is not allowed"):
        from_prompty(v1)


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        (
            "openai:chat:gpt-4o\n    config: {temperature: hot}",
            "Provider openai:chat:gpt-4o, temperature",
        ),
        ("anthropic:messages:claude\n    config: {max_tokens: -5}", "max_tokens: -5"),
        ("ollama:chat:llama3\n    config: {num_predict: -5}", "max_tokens: -5"),
        ("openai:chat:gpt-4o\n    config: {stop: [1, 2]}", r"stop: \[1, 2\]"),
        ("openai:chat:gpt-4o\n    config: {top_p: 7}", "top_p: 7"),
    ],
)
def test_promptfoo_refuses_bad_settings(provider: str, message: str) -> None:
    with pytest.raises(ExchangeError, match=message):
        from_promptfoo(f"prompts: [hi]\nproviders:\n  - id: {provider}\n")


def test_the_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(to_json(_doc({"temperature": "hot"})), encoding="utf-8")
    with pytest.raises(ExchangeError) as caught:
        import_file(path)
    assert caught.value.message == (
        'bad.json: Run column 1 (model m), temperature: "hot" is not allowed; '
        "it must be a number from 0 to 2."
    )


@pytest.mark.parametrize("suffix", [".json", ".md", ".prompty", ".yaml"])
def test_the_cli_stores_nothing_and_runs_nothing(tmp_path: Path, suffix: str) -> None:
    from tests.fake_llm import FakeLLM

    home = tmp_path / "home"
    with FakeLLM() as server:
        doc = _doc({"temperature": "hot"})
        doc.columns[0].base_url = server.base_url
        text = {
            ".json": to_json(doc),
            ".md": to_markdown(doc),
            ".prompty": f"---\nname: P\nmodel:\n  id: m\n"
            f"  connection: {{endpoint: '{server.base_url}'}}\n"
            "  options: {temperature: hot}\n---\nuser:\nhi\n",
            ".yaml": f"prompts: [hi]\nproviders:\n  - id: openai:chat:m\n"
            f"    config: {{apiBaseUrl: '{server.base_url}', temperature: hot}}\n",
        }[suffix]
        path = tmp_path / f"bad{suffix}"
        path.write_text(text, encoding="utf-8")
        done = cli("import", str(path), home=home)
        assert done.returncode == 1
        assert f"bad{suffix}" in done.stderr and "temperature" in done.stderr
        assert "a number from 0 to 2" in done.stderr and "Traceback" not in done.stderr
        done = cli("run", str(path), home=home)
        assert done.returncode != 0 and "temperature" in done.stderr
        assert server.requests == []
    if (home / "library.sqlite3").exists():
        db = sqlite3.connect(home / "library.sqlite3")
        assert db.execute("SELECT count(*) FROM prompts").fetchone() == (0,)
        db.close()


def test_json_history_versions_follow_the_same_rules() -> None:
    doc = _doc(GOOD)
    bad_column = {"id": "c1", "model": "old", "params": {"top_p": 7}}
    doc.versions = [{"template": "hi", "variables": {}, "settings": {"columns": [bad_column]}}]
    message = r"^Stored version 1: Run column 1 \(model old\), top_p: 7 is not allowed"
    with pytest.raises(ExchangeError, match=message):
        from_json(to_json(doc))
    doc.versions[0]["settings"]["columns"][0]["params"] = {"top_p": 0.5}
    assert from_json(to_json(doc)).versions == doc.versions
