"""Export, then import: nothing a user set is lost (JSON, .prompty).

promptfoo and Markdown round trips live in ``test_promptfoo_import`` and
``test_markdown_import``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptstudio.exchange import (
    ExchangeError,
    PromptDocument,
    from_json,
    from_prompty,
    from_text,
    to_json,
    to_prompty,
)
from promptstudio.storage.rows import PromptRow, VersionRow
from tests.exchange.samples import TEMPLATE, columns, plain, sample_document


def test_json_round_trip_is_lossless() -> None:
    doc = sample_document()
    doc.versions = [{"number": 1, "template": "user:\nold", "message": "first"}]
    assert from_json(to_json(doc)) == doc


def test_json_carries_test_cases_and_reads_files_without_them() -> None:
    doc = sample_document()
    data = json.loads(to_json(doc))
    assert data["cases"] == doc.cases
    del data["cases"]  # a file written before test cases existed
    assert from_json(json.dumps(data)).cases == []


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ({"vars": {}}, "list of test cases"),
        ([3], "Test case 1 must be an object"),
        ([{"vars": {}}, {"description": "no vars"}], "Test case 2 must be an object"),
        ([{"vars": ["a"]}], "'vars' object"),
        ([{"vars": {}, "description": None}], "'description' of test case 1"),
        ([{"vars": {}, "expected": 3}], "'expected' answer of test case 1"),
        ([{"vars": {}, "assert": {"type": "contains"}}], "'assert' of test case 1"),
        ([{"vars": {}, "assert": ["contains"]}], "'assert' of test case 1"),
    ],
)
def test_json_cases_of_the_wrong_shape_are_refused(cases: object, message: str) -> None:
    data = json.loads(to_json(sample_document())) | {"cases": cases}
    with pytest.raises(ExchangeError, match=message):
        from_json(json.dumps(data))


def test_json_is_stable_and_versioned() -> None:
    text = to_json(sample_document())
    assert text == to_json(sample_document())
    assert '"format_version": 1' in text


def test_prompty_round_trip_keeps_template_variables_and_columns() -> None:
    doc = sample_document()
    back = from_prompty(to_prompty(doc))
    assert back.template == doc.template
    assert back.variables == doc.variables
    assert back.columns == doc.columns
    assert (back.name, back.description, back.folder, back.tags) == (
        doc.name,
        doc.description,
        doc.folder,
        doc.tags,
    )


def test_prompty_writes_the_v2_schema() -> None:
    text = to_prompty(sample_document())
    assert text.startswith("---\nname: Summariser\n")
    assert "  id: gpt-4o-mini\n  provider: openai\n" in text
    assert "    maxOutputTokens: 200\n" in text
    assert "- name: tone\n  kind: string\n  default: friendly\n" in text
    assert text.endswith("---\n" + TEMPLATE)


def test_prompty_v1_is_read() -> None:
    v1 = """---
name: Basic
description: A v1 prompt
authors: [me]
tags: [old]
model:
  api: chat
  configuration:
    type: azure_openai
    azure_endpoint: https://example.openai.azure.com
    azure_deployment: gpt-35-turbo
  parameters:
    max_tokens: 128
    temperature: 0.3
inputs:
  question:
    type: string
sample:
  question: What is Prompty?
---
system:
Answer briefly.

user:
{{question}}
"""
    doc = from_prompty(v1)
    assert doc.name == "Basic"
    assert doc.tags == ["old"]
    assert doc.variables == {"question": "What is Prompty?"}
    assert plain(doc.columns) == [
        {
            "profile": "",
            "base_url": "https://example.openai.azure.com/openai/v1",
            "model": "gpt-35-turbo",
            "params": {"max_tokens": 128, "temperature": 0.3},
        }
    ]
    assert doc.template.startswith("system:\nAnswer briefly.")


def test_prompty_package_loads_and_prepares_our_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompty = pytest.importorskip("prompty")
    monkeypatch.setenv("OPENAI_API_KEY", "placeholder-for-load")  # Prompty resolves ${env:}
    path = tmp_path / "summary.prompty"
    path.write_text(to_prompty(sample_document()), encoding="utf-8")
    agent = prompty.load(str(path))
    assert agent.model.id == "gpt-4o-mini"
    assert agent.model.options.max_output_tokens == 200
    assert agent.model.options.stop_sequences == ["END"]
    messages = prompty.prepare(agent, inputs={})
    assert [m.role for m in messages] == ["system", "user"]
    assert "friendly" in messages[0].parts[0].value
    assert "- two" in messages[1].parts[0].value


def test_from_library_takes_rows() -> None:
    prompt = PromptRow(id=1, name="P", folder="f", created_at="", updated_at="", tags=("t",))
    version = VersionRow(
        id=2,
        prompt_id=1,
        parent_id=None,
        template="user:\nhi {{ x }}",
        variables={"x": "1"},
        settings={"columns": [{"id": "a", "model": "m", "params": {}}]},
        message="saved",
        kind="manual",
        created_at="",
    )
    doc = PromptDocument.from_library(prompt, version)
    assert doc == PromptDocument(
        name="P",
        description="saved",
        folder="f",
        tags=["t"],
        template="user:\nhi {{ x }}",
        variables={"x": "1"},
        columns=columns({"id": "a", "model": "m", "params": {}}),
    )


@pytest.mark.parametrize("filename", ["greet.txt", "greet.md", "greet.j2"])
def test_plain_files_import_as_template_only(filename: str) -> None:
    doc = from_text(filename, b"user:\nHello {{ name }}\n")
    assert doc.name == "greet"
    assert doc.template == "user:\nHello {{ name }}\n"
    assert doc.columns == [] and doc.variables == {}
