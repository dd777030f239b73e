"""Prompty files of every generation, shaped like the Prompty repo's own test prompts."""

from __future__ import annotations

import pytest

from promptstudio.exchange import ExchangeError, from_prompty
from promptstudio.exchange.formats import import_text
from tests.exchange.samples import plain

LEGACY = """---
name: legacy-prompt
description: Tests legacy property migration
version: "1.0"
authors:
  - testauthor
tags:
  - test
  - legacy
model:
  api: chat
  configuration:
    type: azure_openai
    azure_endpoint: ${env:AZURE_OPENAI_ENDPOINT}
    azure_deployment: gpt-35-turbo
    api_key: ${env:AZURE_OPENAI_API_KEY}
  parameters:
    temperature: 0.7
    max_tokens: 500
    stop:
      - "\\n"
inputs:
  firstName:
    type: string
    sample: Jane
  lastName: Doe
template: jinja2
---
system:
You are an AI assistant.

user:
{{firstName}}
"""


def test_a_legacy_file_with_env_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://mine.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "sk-never-read")
    doc = from_prompty(LEGACY)
    assert (doc.name, doc.tags) == ("legacy-prompt", ["test", "legacy"])
    assert doc.variables == {"firstName": "Jane", "lastName": "Doe"}
    assert plain(doc.columns) == [
        {
            "profile": "",
            "base_url": "https://mine.openai.azure.com/openai/v1",  # Azure's v1 API
            "model": "gpt-35-turbo",
            "params": {"temperature": 0.7, "max_tokens": 500, "stop": ["\n"]},
        }
    ]
    assert "sk-never-read" not in repr(doc)


def test_an_unset_env_endpoint_takes_its_default_or_is_listed_as_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Never OpenAI's URL in place of an Azure endpoint the environment does not name."""
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    doc = from_prompty(LEGACY)
    assert doc.columns[0].base_url == ""
    assert any("${env:AZURE_OPENAI_ENDPOINT} is not set" in note for note in doc.notes)
    v2 = "---\nmodel:\n  id: m\n  connection:\n    endpoint: ${env:NOPE_X:http://localhost:1234/v1}\n---\nhi\n"
    assert from_prompty(v2).columns[0].base_url == "http://localhost:1234/v1"


def test_shorthand_files() -> None:
    model_string = "---\nname: model-string\nmodel: gpt-4o\n---\nuser:\n{{question}}\n"
    doc = from_prompty(model_string)
    assert plain(doc.columns) == [{"profile": "openai", "base_url": "https://api.openai.com/v1",
                            "model": "gpt-4o", "params": {}}]  # fmt: skip
    [body_only] = import_text("concise.prompty", "You answer concisely.\n")
    # A body without a role marker is a system message in Prompty.
    assert (body_only.name, body_only.template) == ("concise", "system:\nYou answer concisely.\n")
    [empty] = import_text("e.prompty", "---\nname: empty\n---\n")
    assert (empty.name, empty.template, empty.columns) == ("empty", "", [])
    [unnamed] = import_text("my prompt.prompty", "---\nmodel: gpt-4o\n---\nhello\n")
    assert unnamed.name == "my prompt"


def test_an_endpoint_from_the_environment_must_be_a_web_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file cannot turn a secret in the environment into a stored, sent "URL"."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-SECRET-0123456789")
    monkeypatch.setenv("MY_SERVER", "http://localhost:8080/v1")
    template = "---\nmodel:\n  id: m\n  connection:\n    endpoint: ${{env:{}}}\n---\nhi\n"
    with pytest.raises(ExchangeError) as caught:
        from_prompty(template.format("OPENAI_API_KEY"))
    assert "${env:OPENAI_API_KEY}" in caught.value.message
    assert "SECRET" not in caught.value.message
    assert from_prompty(template.format("MY_SERVER")).columns[0].base_url == (
        "http://localhost:8080/v1"
    )
