"""promptfoo configs read back: hand-written ones, our own exports, and broken ones."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptstudio.chat import Message
from promptstudio.exchange import (
    ExchangeError,
    OutsideReferenceError,
    PromptDocument,
    from_promptfoo,
    to_promptfoo,
)
from promptstudio.exchange.document import columns_to_dicts
from promptstudio.exchange.formats import import_file
from promptstudio.exchange.library_io import read_import_files
from promptstudio.exchange.promptfoo_format import chat_prompt
from promptstudio.templating import render_messages
from tests.exchange.samples import columns as stored
from tests.exchange.samples import sample_document
from tests.exchange.test_properties import DOCS, TEXT, VALUE

# Written the way promptfoo's docs write configs (configuration guide, reference,
# providers and test case pages): several prompts, string and object providers, a
# provider promptfoo has but PromptStudio hasn't, defaultTest, asserts, metadata.
HAND_WRITTEN = """\
# yaml-language-server: $schema=https://promptfoo.dev/config-schema.json
description: Translation checks
prompts:
  - 'Translate to {{language}}: {{input}}'
  - label: chat-translator
    raw: |
      [
        {"role": "system", "content": "You translate into {{ language }}."},
        {"role": "user", "content": "{{ input }}"}
      ]
providers:
  - openai:gpt-4.1-mini
  - id: anthropic:messages:claude-3-5-sonnet-20241022
    label: Claude
    config:
      temperature: 0.0
      max_tokens: 512
      stop_sequences: ['###']
  - id: ollama:chat:llama3.3
    config:
      num_predict: 1024
      temperature: 0.7
  - vertex:gemini-2.0-flash-exp
  - id: openai:chat:mixtral-8x7b
    label: together mixtral-8x7b
    config:
      apiBaseUrl: https://api.together.xyz/v1
      apiKeyEnvar: TOGETHER_API_KEY
      apiKey: sk-written-in-the-config
      temperature: 0.3
  - openai:embeddings:text-embedding-3-small
  - ollama:chat:qwen2.5:14b:
      config:
        top_k: 20
defaultTest:
  vars:
    language: French
  assert:
    - type: not-contains
      value: error
tests:
  - vars:
      input: Hello world
    assert:
      - type: contains
        value: Bonjour
  - description: German overrides the default
    vars:
      language: German
      input: How's it going?
    metadata:
      expected: Wie geht's?
"""


def test_a_hand_written_config_becomes_one_document_per_prompt() -> None:
    first, second = from_promptfoo(HAND_WRITTEN.encode())
    assert (first.name, second.name) == ("Translation checks", "chat-translator")
    assert first.description == second.description == "Translation checks"
    assert first.template == "Translate to {{language}}: {{input}}"
    assert second.template == "system:\nYou translate into {{ language }}.\n\nuser:\n{{ input }}\n"
    assert (
        columns_to_dicts(first.columns)
        == columns_to_dicts(second.columns)
        == [
            {
                "id": "c1",
                "profile": "openai",
                "base_url": "https://api.openai.com/v1",
                "model": "gpt-4.1-mini",
                "params": {},
            },
            {
                "id": "c2",
                "profile": "anthropic",
                "base_url": "https://api.anthropic.com",
                "model": "claude-3-5-sonnet-20241022",
                "params": {"temperature": 0.0, "max_tokens": 512, "stop": ["###"]},
            },
            {
                "id": "c3",
                "profile": "ollama",
                "base_url": "http://localhost:11434/v1",
                "model": "llama3.3",
                "params": {"temperature": 0.7, "max_tokens": 1024},
            },
            {
                "id": "c4",
                "profile": "together",
                "base_url": "https://api.together.xyz/v1",
                "model": "mixtral-8x7b",
                "params": {"temperature": 0.3},
            },
            {
                "id": "c5",
                "profile": "ollama",
                "base_url": "http://localhost:11434/v1",
                "model": "qwen2.5:14b",
                "params": {"top_k": 20},
            },
        ]
    )
    not_contains = {"type": "not-contains", "value": "error"}
    assert first.cases == [
        {
            "vars": {"language": "French", "input": "Hello world"},
            "assert": [not_contains, {"type": "contains", "value": "Bonjour"}],
        },
        {
            "description": "German overrides the default",
            "vars": {"language": "German", "input": "How's it going?"},
            "expected": "Wie geht's?",
            "assert": [not_contains],
        },
    ]
    assert first.variables == {"language": "French", "input": "Hello world"}
    assert first.cases is not second.cases  # each document owns its data
    assert "sk-written-in-the-config" not in repr([first, second])


def test_names_fall_back_to_the_argument_and_repeat_with_numbers() -> None:
    config = "description: d\nprompts: ['one {{ x }}', 'two', {raw: three, id: tagged}]\n"
    names = [doc.name for doc in from_promptfoo(config, name="greetings")]
    assert names == ["greetings", "greetings 2", "tagged"]
    assert [doc.name for doc in from_promptfoo("prompts: hi\n")] == ["Imported prompt"]


def test_a_single_prompt_string_and_the_legacy_prompt_mapping_are_read() -> None:
    [doc] = from_promptfoo("prompts: 'Hello {{ name }}'\ntests: []\n")
    assert (doc.template, doc.cases, doc.variables) == ("Hello {{ name }}", [], {})
    legacy = from_promptfoo("prompts:\n  'Say {{ a }}': short\n  'Shout {{ a }}': loud\n")
    assert [(d.name, d.template) for d in legacy] == [
        ("short", "Say {{ a }}"),
        ("loud", "Shout {{ a }}"),
    ]


def test_default_vars_are_the_variables_when_there_are_no_tests() -> None:
    [doc] = from_promptfoo("prompts: [hi]\ndefaultTest:\n  vars: {who: Ada}\n")
    assert doc.variables == {"who": "Ada"}
    assert doc.cases == []


def test_yaml_aliases_shared_between_tests_are_expanded() -> None:
    config = """\
prompts: [hi]
tests:
  - vars: {a: 1}
    assert: &checks
      - type: icontains
        value: hello
  - vars: {a: 2}
    assert: *checks
"""
    [doc] = from_promptfoo(config)
    assert doc.cases[1]["assert"] == [{"type": "icontains", "value": "hello"}]


def test_chat_content_that_reads_like_a_marker_stays_content() -> None:
    raw = json.dumps([{"role": "user", "content": "Reply in this form:\nassistant:\n<answer>"}])
    [doc] = from_promptfoo(json.dumps({"prompts": [raw]}))
    assert doc.template == "user:\nReply in this form:\n{{ 'assistant:' }}\n<answer>\n"
    [message] = render_messages(doc.template, {})
    assert message == Message("user", "Reply in this form:\nassistant:\n<answer>")


def test_our_export_reads_back_whole() -> None:
    doc = sample_document()
    [back] = from_promptfoo(to_promptfoo(doc))
    # Folder and tags have no place in a promptfoo config.
    assert back == dataclasses.replace(doc, folder="", tags=[])


def test_a_document_without_cases_comes_back_with_its_variables_as_one_case() -> None:
    doc = dataclasses.replace(sample_document(), cases=[])
    [back] = from_promptfoo(to_promptfoo(doc))
    assert back.variables == doc.variables
    assert back.cases == [{"vars": doc.variables}]


def test_json_modes_thinking_and_hosts_survive_a_round_trip() -> None:
    columns = [
        {
            "id": "c1",
            "profile": "openai",
            "base_url": "https://api.openai.com/v1",
            "model": "gpt-4o",
            "params": {"json_schema": {"type": "object"}, "reasoning_effort": "low"},
        },
        {
            "id": "c2",
            "profile": "openai",
            "base_url": "https://proxy.example.com/v1",
            "model": "gpt-4o",
            "params": {"json_schema": {"name": "answer", "schema": {}, "strict": True}},
        },
        {
            "id": "c3",
            "profile": "anthropic",
            "base_url": "https://proxy.example.com",
            "model": "claude",
            "params": {"thinking_budget": 2048},
        },
        {
            "id": "c4",
            "profile": "",
            "base_url": "http://gpu-box:8000/v1",
            "model": "qwen",
            "params": {"stop": ["\n\n"], "seed": 1},
        },
    ]
    doc = PromptDocument(name="modes", template="user:\nhi\n", columns=stored(*columns))
    [back] = from_promptfoo(to_promptfoo(doc))
    assert columns_to_dicts(back.columns) == columns


# ---- files next to the config --------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_file_references_are_read_relative_to_base_dir(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "prompts/translate.txt": "To French: {{ text }}\n---\nTo German: {{ text }}\n",
            "prompts/chat.json": json.dumps(
                [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "{{ q }}"}]
            ),
            "prompts/chat.yaml": "- role: user\n  content: 'From YAML: {{ q }}'\n",
            "tests.yaml": "- vars: file://vars/first.yaml\n- vars: {q: second}\n",
            "vars/first.yaml": "q: first\ntext: hello\n",
            "default.json": json.dumps({"assert": [{"type": "is-json"}]}),
        },
    )
    config = """\
prompts:
  - file://prompts/translate.txt
  - id: file://prompts/chat.json
    label: Brief
  - prompts/chat.yaml
tests: file://tests.yaml
defaultTest: file://default.json
"""
    docs = from_promptfoo(config, base_dir=tmp_path)
    assert [(d.name, d.template) for d in docs] == [
        ("translate", "To French: {{ text }}"),
        ("translate 2", "To German: {{ text }}"),
        ("Brief", "system:\nBe brief.\n\nuser:\n{{ q }}\n"),
        ("chat", "user:\nFrom YAML: {{ q }}\n"),
    ]
    assert docs[0].cases == [
        {"vars": {"q": "first", "text": "hello"}, "assert": [{"type": "is-json"}]},
        {"vars": {"q": "second"}, "assert": [{"type": "is-json"}]},
    ]


def test_real_world_shapes_csv_tests_content_parts_file_vars_and_filters(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "tests.csv": "topic,__expected,__expected1\ncats,contains: cat,javascript: 1\n"
            "dogs,Woof,\n",
            "more.jsonl": '{"vars": {"topic": "file://notes/topic.txt"}, "options": '
            '{"transform": "output.trim()"}}\n',
            "notes/topic.txt": "\n  birds of prey \n",
            "notes/facts.yaml": "a: [1, 2]\nb: é\n",
            "parts.json": json.dumps(
                [
                    {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "About {{ topic }}:"},
                            {"type": "text", "text": "{{ facts | load | dump }}"},
                        ],
                    },
                ]
            ),
        },
    )
    config = """\
prompts: [file://parts.json]
defaultTest:
  vars: {facts: file://notes/facts.yaml}
  options: {transform: output.trim()}
tests: [file://tests.csv, file://more.jsonl]
"""
    [doc] = from_promptfoo(config, base_dir=tmp_path)
    assert (
        doc.template
        == "system:\nBe brief.\n\nuser:\nAbout {{ topic }}:\n{{ facts | load | dump }}\n"
    )
    facts = '{"a":[1,2],"b":"é"}'  # as promptfoo passes a YAML file: compact JSON text
    assert doc.cases == [
        {
            "vars": {"facts": facts, "topic": "cats"},
            "assert": [{"type": "contains", "value": "cat"}, {"type": "javascript", "value": "1"}],
        },
        {"vars": {"facts": facts, "topic": "dogs"}, "expected": "Woof"},
        {"vars": {"facts": facts, "topic": "birds of prey"}},
    ]
    assert render_messages(doc.template, doc.cases[2]["vars"])[1] == Message(
        "user", 'About birds of prey:\n{"a":[1,2],"b":"é"}'
    )
    assert doc.notes == [
        "The options.transform of defaultTest (every test) is left out: it is code promptfoo "
        "runs on each answer before grading it, and PromptStudio grades the answer as the "
        "model gave it.",
        "The options.transform of test 3 is left out: it is code promptfoo runs on each "
        "answer before grading it, and PromptStudio grades the answer as the model gave it.",
        "Checks kept but not graded in PromptStudio (promptfoo grades them): 'javascript' in "
        "test 1.",
    ]


def test_a_providers_prompts_filter_picks_the_prompts_it_runs_and_nothing_is_silent() -> None:
    config = """\
prompts:
  - {id: 'Hello {{ name }}', label: greet}
  - {raw: 'Bye {{ name }}', label: farewell-short}
  - {raw: 'Bye, dear {{ name }}', label: farewell-long}
providers:
  - openai:chat:gpt-4o-mini
  - id: anthropic:messages:claude-x
    prompts: [greet]
    transform: output.trim()
  - id: openai:chat:gpt-4o
    prompts: ['farewell-*']
    config: {temperature: 0, headers: {x-team: a}, max_retries: 1}
  - bedrock:anthropic.claude-3
  - vertex:gemini-pro
scenarios: [{config: [{vars: {name: Ada}}], tests: [{vars: {}}]}]
tests: [{vars: {name: Ada}, providers: [large, 'openai:*']}]
"""
    docs = from_promptfoo(config)
    assert [[c.model for c in doc.columns] for doc in docs] == [
        ["gpt-4o-mini", "claude-x"],
        ["gpt-4o-mini", "gpt-4o"],
        ["gpt-4o-mini", "gpt-4o"],
    ]
    assert docs[0].notes == [
        "The transform of provider anthropic:messages:claude-x is left out: it is code "
        "promptfoo runs on each answer, and PromptStudio keeps the answer as the model gave it.",
        "Settings of provider openai:chat:gpt-4o left out (a run column has no place for "
        "them): headers, max_retries.",
        "Providers left out (no PromptStudio column can run them): bedrock:anthropic.claude-3, "
        "vertex:gemini-pro.",
        "Test 1 runs only on some providers in promptfoo (large, openai:*); here every "
        "column runs it.",
        "The config's scenarios are left out (PromptStudio has no place for them).",
    ]


def test_a_list_of_texts_in_vars_is_a_test_per_text_as_in_promptfoo(tmp_path: Path) -> None:
    _write(tmp_path, {"a.txt": "from a", "b.txt": "from b"})
    config = """\
prompts: ['{{ lang }} {{ doc }} {{ n }}']
tests:
  - vars: {lang: [fr, de], doc: [file://a.txt, file://b.txt], n: [1, 2]}
  - vars: {lang: [fr, de]}
    options: {disableVarExpansion: true}
"""
    [doc] = from_promptfoo(config, base_dir=tmp_path)
    assert [case["vars"] for case in doc.cases] == [
        {"lang": "fr", "doc": "from a", "n": [1, 2]},  # a list of numbers stays one value
        {"lang": "fr", "doc": "from b", "n": [1, 2]},
        {"lang": "de", "doc": "from a", "n": [1, 2]},
        {"lang": "de", "doc": "from b", "n": [1, 2]},
        {"lang": ["fr", "de"]},
    ]


def test_an_image_part_becomes_image_markup_and_other_parts_are_refused_by_name() -> None:
    part = '{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}'
    config = f"""prompts: ['[{{"role": "user", "content": [{part}]}}]']\n"""
    [doc] = from_promptfoo(config)
    assert "![image](https://example.com/a.png)" in doc.template
    audio = '{"type": "input_audio", "input_audio": {"data": "x"}}'
    config = f"""prompts: ['[{{"role": "user", "content": [{audio}]}}]']\n"""
    with pytest.raises(ExchangeError, match="content part of type 'input_audio'"):
        from_promptfoo(config)


def test_a_render_error_in_a_prompt_file_is_located_in_that_file(tmp_path: Path) -> None:
    from promptstudio.exchange.document import template_location
    from promptstudio.templating import TemplateError

    _write(
        tmp_path,
        {
            "chat.json": '[\n  {"role": "system", "content": "Be brief."},\n'
            '  {"role": "user", "content": "Hi\\n{{ topic | nosuch }}"}\n]\n',
            "chat.yaml": "- role: system\n  content: Be brief.\n- role: user\n  content: |\n"
            "    Hi\n    {{ topic | nosuch }}\n",
            "plain.txt": "First {{ a }}\n---\n\nSecond\n{{ b | nosuch }}\n",
        },
    )
    config = "prompts: [file://chat.json, file://chat.yaml, file://plain.txt]\n"
    where = []
    for doc in from_promptfoo(config, base_dir=tmp_path):
        try:
            render_messages(doc.template, {"topic": "x", "a": 1, "b": 2})
        except TemplateError as exc:
            where.append(template_location(doc, "promptfooconfig.yaml", exc.line, exc.column))
    assert where == ["chat.json:3", "chat.yaml:6", "plain.txt:5:8"]


def test_a_file_reference_without_base_dir_names_the_file() -> None:
    with pytest.raises(ExchangeError, match=r"file://prompts/a\.txt.*import the config file"):
        from_promptfoo("prompts: [file://prompts/a.txt]\n")
    with pytest.raises(ExchangeError, match=r"tests\.yaml"):
        from_promptfoo("prompts: [hi]\ntests: file://tests.yaml\n")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("prompts: [file://missing.txt]\n", "missing.txt does not exist"),
        ("prompts: [file://make.py:build]\n", "produced by code"),
        ("prompts: ['file://prompts/*.txt']\n", "pattern"),
        ("prompts: [hi]\ntests: file://cases.xlsx\n", "only YAML, JSON, CSV and JSON Lines"),
        ("prompts: [hi]\ntests: file://bad.csv\n", r"bad\.csv, line 2: Row 2 has 2 cells"),
        ("prompts: [hi]\ntests: [{vars: {x: file://photo.png}}]\n", "only text variables"),
        ("prompts: [hi]\ntests: [{vars: {x: file://get.py}}]\n", "produced by code"),
        ("prompts: [hi]\ntests: huggingface://datasets/x/y\n", "only files next to"),
        ("prompts: ['exec:./make-prompt.sh']\n", "outside the config"),
        ("prompts: ['langfuse://greeting@production']\n", "outside the config"),
        (
            "prompts: [hi]\ntests: file://broken.yaml\n",
            r"tests: file://broken\.yaml, line 3 is not valid YAML",
        ),
    ],
)
def test_unreadable_references_are_refused(tmp_path: Path, config: str, message: str) -> None:
    _write(tmp_path, {"cases.xlsx": "q\n1\n", "broken.yaml": "- vars:\n  bad: [\n",
                      "bad.csv": "q\n1,2\n"})  # fmt: skip
    with pytest.raises(ExchangeError, match=message):
        from_promptfoo(config, base_dir=tmp_path)


# ---- references leading out of the config's folder -----------------------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A config folder ``cfg/`` with a nested prompt, next to a secret it must not read."""
    (tmp_path / "id_fake").write_text("SECRET-KEY-MATERIAL\n", encoding="utf-8")
    _write(tmp_path / "cfg", {"prompts/nested/p.txt": "Nested {{ x }}\n", "vars.yaml": "x: 1\n"})
    return tmp_path / "cfg"


@pytest.mark.parametrize(
    ("config", "reference"),
    [
        ("prompts: [file://../id_fake]\n", "file://../id_fake"),
        ("prompts: ['../id_fake.txt']\n", "../id_fake.txt"),
        (
            "prompts: [{id: 'file://prompts/../../id_fake', label: x}]\n",
            "file://prompts/../../id_fake",
        ),
        ("prompts: [hi]\ntests: file://../tests.yaml\n", "file://../tests.yaml"),
        ("prompts: [hi]\ndefaultTest: file://../d.json\n", "file://../d.json"),
        ("prompts: [hi]\ntests: [{vars: file://../v.yaml}]\n", "file://../v.yaml"),
        ("prompts: [hi]\ndefaultTest: {vars: file://../v.json}\n", "file://../v.json"),
        ("prompts: [hi]\ntests: [{vars: {x: file://../id_fake}}]\n", "file://../id_fake"),
    ],
)
def test_a_reference_leading_out_of_the_folder_is_refused_and_not_read(
    secret: Path, config: str, reference: str
) -> None:
    for name in ("id_fake.txt", "tests.yaml", "d.json", "v.yaml", "v.json"):
        (secret.parent / name).write_text("[{vars: {x: SECRET-KEY-MATERIAL}}]\n")
    with pytest.raises(OutsideReferenceError) as caught:
        from_promptfoo(config, base_dir=secret)
    assert caught.value.references == (reference,)
    assert reference in caught.value.message and "SECRET" not in caught.value.message
    assert str(secret) in caught.value.message


def test_an_absolute_path_is_refused(secret: Path) -> None:
    target = secret.parent / "id_fake"
    for config in (f"prompts: ['file://{target}']\n", "prompts: ['file:///etc/passwd']\n"):
        with pytest.raises(OutsideReferenceError, match="outside its folder"):
            from_promptfoo(config, base_dir=secret)


def test_a_symbolic_link_cannot_lead_out(secret: Path) -> None:
    (secret / "innocent.txt").symlink_to(secret.parent / "id_fake")
    (secret / "linked").symlink_to(secret.parent, target_is_directory=True)
    for reference in ("file://innocent.txt", "file://linked/id_fake"):
        with pytest.raises(OutsideReferenceError) as caught:
            from_promptfoo(f"prompts: ['{reference}']\n", base_dir=secret)
        assert caught.value.references == (reference,)


def test_every_reference_leading_out_is_named_at_once(secret: Path) -> None:
    config = (
        "prompts: [file://../id_fake, 'file:///etc/passwd', file://prompts/nested/p.txt]\n"
        "tests: file://../tests.yaml\n"
    )
    with pytest.raises(OutsideReferenceError) as caught:
        from_promptfoo(config, base_dir=secret)
    assert caught.value.references == (
        "file://../id_fake", "file:///etc/passwd", "file://../tests.yaml",
    )  # fmt: skip
    assert "3 files outside its folder" in caught.value.message


def test_nested_files_and_links_inside_the_folder_are_read(secret: Path) -> None:
    (secret / "alias.txt").symlink_to(secret / "prompts" / "nested" / "p.txt")
    config = (
        "prompts: [file://prompts/nested/p.txt, 'file://prompts/nested/../nested/p.txt', "
        "file://alias.txt]\ntests: [{vars: file://vars.yaml}]\n"
    )
    docs = from_promptfoo(config, base_dir=secret)
    assert [doc.template for doc in docs] == ["Nested {{ x }}"] * 3
    assert docs[0].cases == [{"vars": {"x": 1}}]


def test_reading_outside_can_be_allowed_explicitly(secret: Path) -> None:
    [doc] = from_promptfoo(
        "prompts: [file://../id_fake]\n", base_dir=secret, allow_outside_refs=True
    )
    assert doc.template == "SECRET-KEY-MATERIAL\n"


def test_through_import_file_the_error_names_the_config_and_keeps_its_type(secret: Path) -> None:
    config = secret / "promptfooconfig.yaml"
    config.write_text("prompts: [file://../id_fake]\n", encoding="utf-8")
    with pytest.raises(OutsideReferenceError) as caught:
        import_file(config)
    assert caught.value.message.startswith("promptfooconfig.yaml: The config refers to a file")
    with pytest.raises(OutsideReferenceError) as caught:
        read_import_files([config])
    assert caught.value.references == ("file://../id_fake",)
    assert "nothing was imported" in caught.value.message
    [(_, doc)] = read_import_files([config], allow_outside_refs=True)
    assert doc.template.startswith("SECRET")


# ---- broken configs ------------------------------------------------------------------


def test_bad_yaml_reports_its_line() -> None:
    config = "description: x\nprompts:\n  - 'fine'\n  - [unclosed\ntests: []\n"
    with pytest.raises(ExchangeError, match="not valid YAML") as caught:
        from_promptfoo(config)
    assert caught.value.line == 5


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("- just\n- a list\n", "mapping"),
        ("plain text\n", "mapping"),
        ("description: nothing to run\nproviders: [openai:gpt-4o]\n", "no prompts"),
        ("prompts: []\n", "no prompts"),
        ("prompts: 3\n", "'prompts' must be a list"),
        ("prompts: [{label: x}]\n", "no 'raw' text or 'id'"),
        ('prompts: [\'[{"role": "tool", "content": "x"}]\']\n', "role 'tool'"),
        ("prompts: [hi]\ntests: [{vars: {a: 1}}, 3]\n", "Test 2 must be a mapping"),
        ("prompts: [hi]\ntests: [{vars: [1, 2]}]\n", "vars of test 1"),
        ("prompts: [hi]\ntests: [{assert: {type: x}}]\n", "assert of test 1"),
        ("prompts: [hi]\ndefaultTest: [1]\n", "'defaultTest' must be a mapping"),
    ],
)
def test_configs_of_the_wrong_shape_are_refused(config: str, message: str) -> None:
    with pytest.raises(ExchangeError, match=message):
        from_promptfoo(config)


def test_an_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(ExchangeError, match="expands"):
        from_promptfoo("\n".join([*lines, "prompts: [hi]"]))


def test_binary_input_is_refused_before_parsing() -> None:
    with pytest.raises(ExchangeError, match="binary") as caught:
        from_promptfoo(b"prompts:\n  - hi\x00")
    assert caught.value.line == 2


# ---- properties ----------------------------------------------------------------------

CASES = st.lists(
    st.fixed_dictionaries(
        {"vars": st.dictionaries(TEXT, VALUE, max_size=3)},
        optional={
            "description": TEXT.filter(bool),
            "expected": TEXT,
            "assert": st.lists(
                st.fixed_dictionaries({"type": TEXT, "value": TEXT}), min_size=1, max_size=2
            ),
        },
    ),
    max_size=3,
)
DOCS_WITH_CASES = st.tuples(DOCS, CASES).map(
    lambda pair: dataclasses.replace(pair[0], cases=pair[1])
)


@settings(max_examples=100, deadline=None, database=None)
@given(DOCS_WITH_CASES)
def test_promptfoo_round_trip_keeps_messages_cases_and_models(doc: PromptDocument) -> None:
    [back] = from_promptfoo(to_promptfoo(doc))
    assert chat_prompt(back.template) == chat_prompt(doc.template)  # what promptfoo sends
    assert back.name == (doc.name or doc.description or "Imported prompt")
    assert back.description == (doc.description or doc.name)
    expected: list[dict[str, Any]] = doc.cases or [{"vars": doc.variables}]
    assert back.cases == expected
    assert back.variables == expected[0]["vars"]
    assert [c.model for c in back.columns] == [c.model for c in doc.columns]
