"""Exports to other tools: promptfoo, Markdown, Python and curl snippets; no key leaks."""

from __future__ import annotations

import json

import pytest
import yaml

from promptstudio.exchange import (
    PromptDocument,
    to_curl,
    to_json,
    to_markdown,
    to_promptfoo,
    to_prompty,
    to_python_anthropic,
    to_python_openai,
)
from promptstudio.exchange.document import columns_to_dicts
from promptstudio.providers import ProviderProfile
from tests.exchange.samples import columns, sample_document

PROMPTFOO_TOP_LEVEL = {"description", "prompts", "providers", "tests", "defaultTest"}
# promptfoo's documented test case keys we write (configuration reference, "Test Case").
PROMPTFOO_TEST_KEYS = {"description", "vars", "assert", "metadata", "options"}
# A list of texts is one value here; promptfoo would run the test once per text.
KEEP_LISTS = {"options": {"disableVarExpansion": True}}
VALUES = {"tone": "dry", "name": 'O\'Brien "the" {{ user }}', "items": ["a", "b"]}
SENTINEL = "sk-SENTINEL-0123456789abcdefghijklmnop"


def test_promptfoo_config_is_yaml_with_documented_keys_only() -> None:
    config = yaml.safe_load(to_promptfoo(sample_document()))
    assert set(config) <= PROMPTFOO_TOP_LEVEL
    assert [p["id"] for p in config["providers"]] == [
        "openai:chat:gpt-4o-mini",
        "anthropic:messages:claude-3-5-haiku-latest",
        "ollama:chat:llama3.2",
        "openai:chat:llama-3.1-8b-instant",
    ]
    assert config["providers"][0]["config"] == {
        "temperature": 0.2,
        "max_tokens": 200,
        "stop": ["END"],
        "seed": 7,
    }
    assert config["providers"][3]["config"] == {
        "response_format": {"type": "json_object"},
        "apiBaseUrl": "https://api.groq.com/openai/v1",
        "apiKeyEnvar": "GROQ_API_KEY",
    }
    [prompt] = config["prompts"]
    assert set(prompt) == {"label", "raw"}  # promptfoo's Prompt: raw text and a label
    assert prompt["label"] == "Summariser"
    messages = json.loads(prompt["raw"])
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == "You are a {{ tone }} assistant."


def test_promptfoo_messages_split_at_every_line_end_the_template_engine_knows() -> None:
    doc = PromptDocument(name="cr", template="system:\rBe brief.\r\nuser:\rhi\r")
    raw = yaml.safe_load(to_promptfoo(doc))["prompts"][0]["raw"]
    assert json.loads(raw) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]


def test_promptfoo_tests_are_the_cases_in_documented_test_keys() -> None:
    doc = sample_document()
    tests = yaml.safe_load(to_promptfoo(doc))["tests"]
    assert tests == [
        {"vars": doc.cases[0]["vars"], **KEEP_LISTS},
        {
            "description": "Dry tone, a single item",
            "vars": doc.cases[1]["vars"],
            **KEEP_LISTS,
            "assert": doc.cases[1]["assert"],
            "metadata": {"expected": "- only"},
        },
    ]
    assert all(set(test) <= PROMPTFOO_TEST_KEYS for test in tests)


def test_promptfoo_checks_are_written_so_promptfoo_grades_them_as_promptstudio_does() -> None:
    from promptstudio.exchange import from_promptfoo
    from promptstudio.runs.columns import ColumnConfig

    doc = PromptDocument(
        name="checks",
        template="user:\n{{ q }}",
        cases=[
            {"vars": {"q": "a"}, "expected": "Paris"},
            {"vars": {"q": "b"}, "expected": "Rome", "assert": [{"type": "not-equals"}]},
            {
                "vars": {"q": "c"},
                "assert": [
                    {"type": "max-length", "value": 20, "weight": 2},
                    {"type": "not-max-length", "value": 3},
                    {"type": "min-length", "value": 1},
                    {"type": "not-min-length", "value": 9},
                    {"type": "javascript", "value": "output.length < 4"},
                ],
            },
        ],
    )
    tests = yaml.safe_load(to_promptfoo(doc))["tests"]
    assert [test.get("assert") for test in tests] == [
        [{"type": "equals", "value": "Paris"}],
        [{"type": "not-equals", "value": "Rome"}],
        [
            {"type": "javascript", "value": "Array.from(output).length <= 20", "weight": 2},
            {"type": "javascript", "value": "Array.from(output).length > 3"},
            {"type": "javascript", "value": "Array.from(output).length >= 1"},
            {"type": "javascript", "value": "Array.from(output).length < 9"},
            {"type": "javascript", "value": "output.length < 4"},
        ],
    ]
    assert tests[0]["metadata"] == {"expected": "Paris"}
    doc.every_case_checks = [{"type": "min-length", "value": 2}]
    doc.columns = [ColumnConfig(id="judge", base_url="https://api.openai.com/v1", model="big")]
    doc.judge_column = "judge"
    config = yaml.safe_load(to_promptfoo(doc))
    assert config["defaultTest"] == {
        "assert": [{"type": "javascript", "value": "Array.from(output).length >= 2"}],
        "options": {"provider": {"id": "openai:chat:big", "label": "openai big"}},
    }
    [back] = from_promptfoo(to_promptfoo(doc))  # each case: every case's checks, then its own
    assert back.notes[0] == (
        "defaultTest's options.provider (the model grading llm-rubric checks) is left out: "
        "choose the judge in the Evaluate tab, or with eval --judge."
    )
    assert back.cases[0]["assert"] == [
        {"type": "min-length", "value": 2},
        {"type": "equals", "value": "Paris"},
    ]
    doc.every_case_checks, doc.judge_column = [], None
    [back] = from_promptfoo(to_promptfoo(doc))
    assert back.cases[0] == {"vars": {"q": "a"}, "expected": "Paris"}
    assert back.cases[1]["assert"] == [{"type": "not-equals", "value": "Rome"}]  # same test
    assert back.cases[2] == doc.cases[2]


def test_promptfoo_providers_run_keyless_local_servers_and_custom_anthropic_profiles() -> None:
    from promptstudio.runs.columns import ColumnConfig

    doc = PromptDocument(
        name="p",
        columns=[
            ColumnConfig(base_url="http://127.0.0.1:8089/v1", model="local"),
            ColumnConfig(base_url="https://api.groq.com/openai/v1", model="llama"),
            ColumnConfig(base_url="https://llm.example.com/v1", model="gw"),
            ColumnConfig(profile="my-claude", base_url="http://127.0.0.1:9000", model="c"),
            ColumnConfig(profile="my-claude", base_url="https://api.anthropic.com", model="c"),
        ],
    )
    doc.profiles = [
        ProviderProfile("my-claude", "anthropic", "My Claude", "https://proxy.example.com")
    ]
    providers = yaml.safe_load(to_promptfoo(doc))["providers"]
    assert [(p["id"], p.get("config")) for p in providers] == [
        ("openai:chat:local", {"apiBaseUrl": "http://127.0.0.1:8089/v1", "apiKey": "no-key"}),
        (
            "openai:chat:llama",
            {"apiBaseUrl": "https://api.groq.com/openai/v1", "apiKeyEnvar": "GROQ_API_KEY"},
        ),
        ("openai:chat:gw", {"apiBaseUrl": "https://llm.example.com/v1"}),
        ("anthropic:messages:c", {"apiBaseUrl": "http://127.0.0.1:9000", "apiKey": "no-key"}),
        ("anthropic:messages:c", None),
    ]


def test_promptfoo_providers_follow_the_profile_to_its_server_and_its_key() -> None:
    from promptstudio.runs.columns import ColumnConfig

    doc = PromptDocument(
        name="p",
        columns=[
            # Profiles of kind openai that point elsewhere: promptfoo is sent there too.
            ColumnConfig(profile="here", base_url="http://127.0.0.1:8080/v1", model="a"),
            ColumnConfig(profile="gateway", base_url="https://gw.example.com/v1", model="b"),
            ColumnConfig(profile="vault", base_url="https://llm.example.com/v1", model="c"),
            ColumnConfig(profile="openai", base_url="https://api.openai.com/v1", model="d"),
        ],
    )
    doc.profiles = [
        ProviderProfile("here", "openai", "Here", "http://127.0.0.1:8080/v1", needs_key=False),
        ProviderProfile("gateway", "openai", "Gateway", "https://gw.example.com/v1",
                        needs_key=False),
        ProviderProfile("vault", "openai-compatible", "Vault", "https://llm.example.com/v1",
                        key_env="VAULT_LLM_KEY"),
    ]  # fmt: skip
    providers = yaml.safe_load(to_promptfoo(doc))["providers"]
    assert [(p["id"], p.get("config")) for p in providers] == [
        ("openai:chat:a", {"apiBaseUrl": "http://127.0.0.1:8080/v1", "apiKey": "no-key"}),
        ("openai:chat:b", {"apiBaseUrl": "https://gw.example.com/v1", "apiKey": "no-key"}),
        ("openai:chat:c", {"apiBaseUrl": "https://llm.example.com/v1",
                           "apiKeyEnvar": "VAULT_LLM_KEY"}),
        ("openai:chat:d", None),
    ]  # fmt: skip


def test_promptfoo_providers_ask_for_logprobs_when_a_perplexity_check_needs_them() -> None:
    from promptstudio.exchange import from_promptfoo
    from promptstudio.runs.columns import ColumnConfig

    doc = PromptDocument(
        name="p",
        template="user:\nHi",
        columns=[ColumnConfig(base_url="http://127.0.0.1:8089/v1", model="local")],
        cases=[{"vars": {}}],
    )
    assert "passthrough" not in yaml.safe_load(to_promptfoo(doc))["providers"][0]["config"]
    doc.cases = [{"vars": {}, "assert": [{"type": "not-perplexity-score", "threshold": 0.5}]}]
    [provider] = yaml.safe_load(to_promptfoo(doc))["providers"]
    assert provider["config"]["passthrough"] == {"logprobs": True}
    [back] = from_promptfoo(to_promptfoo(doc))
    assert back.notes == []  # PromptStudio asks for them itself: nothing is left out


def test_promptfoo_runs_contains_tool_call_as_javascript_and_it_reads_back() -> None:
    from promptstudio.exchange import from_promptfoo

    checks = [
        {"type": "contains-tool-call", "value": "get_weather"},
        {"type": "not-contains-tool-call", "value": {"name": "t", "arguments": {"a": [1]}}},
    ]
    doc = PromptDocument(name="p", template="user:\nHi", cases=[{"vars": {}, "assert": checks}])
    written = yaml.safe_load(to_promptfoo(doc))["tests"][0]["assert"]
    assert [check["type"] for check in written] == ["javascript", "not-javascript"]
    assert written[0]["value"].endswith('})("get_weather")')
    [back] = from_promptfoo(to_promptfoo(doc))
    assert back.cases[0]["assert"] == checks and back.notes == []


def test_promptfoo_without_cases_has_one_test_with_the_current_variables() -> None:
    doc = sample_document()
    doc.cases = []
    assert yaml.safe_load(to_promptfoo(doc))["tests"] == [{"vars": doc.variables, **KEEP_LISTS}]


def test_promptfoo_writes_json_modes_thinking_and_a_custom_anthropic_host() -> None:
    doc = PromptDocument(
        name="modes",
        columns=columns(
            {"profile": "openai", "model": "m", "params": {"json_schema": {"type": "object"}}},
            {
                "profile": "anthropic",
                "base_url": "https://proxy.example.com",
                "model": "c",
                "params": {"thinking_budget": 2048, "stop": ["x"]},
            },
        ),
    )
    first, second = yaml.safe_load(to_promptfoo(doc))["providers"]
    assert first["config"] == {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": {"type": "object"}},
        }
    }
    assert second["config"] == {
        "stop_sequences": ["x"],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "apiBaseUrl": "https://proxy.example.com",
    }


def test_markdown_shows_metadata_and_fences_the_template() -> None:
    doc = sample_document()
    doc.template = "user:\n```\ncode\n```\n"
    text = to_markdown(doc)
    assert text.startswith("# Summariser\n")
    assert "- **Tags:** `summary`, `demo`" in text
    assert "`gpt-4o-mini`" in text
    assert "````jinja\nuser:\n```\ncode\n```\n````" in text


def test_markdown_carries_cases_and_models_as_json_blocks() -> None:
    doc = sample_document()
    text = to_markdown(doc)
    headings = [line for line in text.split("\n") if line.startswith("## ")]
    assert headings == ["## Variables", "## Template", "## Test cases", "## Models"]
    models = text.split("## Models\n\n```json\n", 1)[1].split("\n```\n", 1)[0]
    assert json.loads(models) == columns_to_dicts(doc.columns)
    assert "<!--" not in text  # nothing here that the visible text can't show exactly


@pytest.mark.parametrize("render", [to_python_openai, to_python_anthropic])
def test_python_snippets_compile_and_read_the_key_from_the_environment(render: object) -> None:
    assert callable(render)
    code = render(sample_document(), VALUES)
    compile(code, "snippet.py", "exec")
    assert "os.environ[" in code
    assert "sk-" not in code
    assert "O'Brien" in code or "O\\'Brien" in code


def test_python_snippet_for_each_column_compiles() -> None:
    doc = sample_document()
    for index in range(len(doc.columns)):
        compile(to_python_openai(doc, VALUES, index), "snippet.py", "exec")
    assert "os.environ['GROQ_API_KEY']" in to_python_openai(doc, VALUES, 3)
    assert "base_url='http://localhost:11434/v1'" in to_python_openai(doc, VALUES, 2)


def test_anthropic_snippet_moves_system_out_of_messages() -> None:
    code = to_python_anthropic(sample_document(), VALUES, 1)
    assert "system='You are a dry assistant.'" in code
    assert "'role': 'system'" not in code


def test_curl_uses_shell_variables_and_valid_json() -> None:
    text = to_curl(sample_document(), VALUES)
    assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in text
    body = text.split("<<'JSON'\n", 1)[1].rsplit("\nJSON\n", 1)[0]
    payload = json.loads(body)
    assert payload["model"] == "gpt-4o-mini"
    assert payload["messages"][1]["content"].startswith('Summarise for O\'Brien "the" {{ user }}')
    anthropic = to_curl(sample_document(), VALUES, 1)
    assert '-H "x-api-key: $ANTHROPIC_API_KEY"' in anthropic
    assert "https://api.anthropic.com/v1/messages" in anthropic


def test_no_export_contains_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY"):
        monkeypatch.setenv(name, SENTINEL)
    doc = sample_document()
    outputs = [to_json(doc), to_prompty(doc), to_promptfoo(doc), to_markdown(doc)]
    for index in range(len(doc.columns)):
        outputs += [
            to_python_openai(doc, VALUES, index),
            to_python_anthropic(doc, VALUES, index),
            to_curl(doc, VALUES, index),
        ]
    assert all(SENTINEL not in output for output in outputs)


def test_exports_are_deterministic() -> None:
    for export in (to_json, to_prompty, to_promptfoo, to_markdown):
        assert export(sample_document()) == export(sample_document())


def test_a_document_without_columns_still_exports() -> None:
    doc = PromptDocument(name="bare", template="hello {{ x }}")
    assert yaml.safe_load(to_promptfoo(doc))["providers"] == []
    compile(to_python_openai(doc, {"x": 1}), "snippet.py", "exec")
    assert "os.environ['OPENAI_API_KEY']" in to_python_openai(doc, {"x": 1})
