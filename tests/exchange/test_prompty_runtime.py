"""Held to the real Prompty runtime (``prompty`` 2.1, a dev dependency): our own corpus of
``.prompty`` files renders here message by message as ``prompty.prepare`` renders it, and
what we export runs in ``prompty.invoke``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import prompty
import pytest
import yaml
from prompty.providers.openai.executor import OpenAIExecutor, _output_schema_to_wire

from promptstudio.exchange import ExchangeError, PromptDocument, to_curl, to_promptfoo, to_prompty
from promptstudio.exchange.formats import import_file, import_text
from promptstudio.providers import ProviderProfile
from promptstudio.templating import render_messages
from tests.exchange.samples import columns
from tests.fake_llm import FakeLLM, Reply

CORPUS = Path(__file__).parent / "prompty_corpus"
# Files the runtime loads (prompty 2.1 reads no v1 ``inputs`` mapping: v1_serverless).
RENDERED = [
    "env_model",
    "instructions",
    "markers",
    "no_marker",
    "refs",
    "structured",
    "thread",
    "thread_at_end",
    "thread_inline",
    "undeclared",
    "v1_azure",
    "v2_foundry",
]


@pytest.fixture(autouse=True)
def _trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus points at local servers, which Prompty only loads when told to trust them."""
    monkeypatch.setenv("PROMPTY_TRUSTED_ENDPOINTS", "*")
    for name in (
        "CORPUS_AZURE_ENDPOINT",
        "CORPUS_AZURE_DEPLOYMENT",
        "CORPUS_DEPLOYMENT",
        "CORPUS_CITY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_KEY", raising=False)
    # Prompty resolves a connection's key reference when it loads a file (v2_foundry).
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "placeholder-for-load")


def _import(path: Path) -> PromptDocument:
    [doc] = import_file(path)
    return doc


def _ours(doc: PromptDocument) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in render_messages(doc.template, doc.variables)]


def _theirs(path: Path, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """``prompty.prepare``'s messages, with its ``developer`` role as our ``system`` and
    without the empty turns it sends for a marker followed by nothing (PromptStudio never
    sends an empty turn)."""
    messages = prompty.prepare(prompty.load(str(path)), inputs=inputs)
    pairs = [
        ("system" if m.role == "developer" else m.role, "".join(p.value for p in m.parts))
        for m in messages
    ]
    return [(role, text) for role, text in pairs if text]


@pytest.mark.parametrize("name", RENDERED)
def test_every_corpus_file_renders_as_prompty_prepares_it(name: str) -> None:
    path = CORPUS / f"{name}.prompty"
    doc = _import(path)
    ours = _ours(doc)
    assert ours, name
    # Prompty gets only the values the file does not give itself: its defaults must agree.
    given = {"question": "What is a sextant?"} if name == "v1_azure" else {}
    assert _theirs(path, given) == ours
    # And with every value named, as the app sends them.
    assert _theirs(path, dict(doc.variables)) == ours


def test_what_each_feature_becomes() -> None:
    no_marker = _import(CORPUS / "no_marker.prompty")
    assert _ours(no_marker)[0][0] == "system"
    markers = _import(CORPUS / "markers.prompty")
    assert [role for role, _ in _ours(markers)] == [
        "system", "system", "system", "user", "assistant", "user",
    ]  # fmt: skip
    assert any("user[name=" in note for note in markers.notes)
    thread = _import(CORPUS / "thread.prompty")
    assert _ours(thread)[1:5] == [
        ("user", "Earlier turns follow."),
        ("user", "It will not switch on."),
        ("assistant", "Is it plugged in?"),
        ("user", "Yes, and the light is off."),
    ]
    undeclared = _import(CORPUS / "undeclared.prompty")
    assert undeclared.variables == {"question": "", "tone": ""}  # rendered empty, not refused
    assert undeclared.notes == ["Descriptions of inputs not kept (1)."]


def test_instructions_yield_to_the_body_and_an_empty_body_is_said(tmp_path: Path) -> None:
    """Prompty 2.1 puts the body in place of ``instructions``, even an empty one. With a
    body both send the body (the corpus file renders alike); with none, the instructions
    are kept as the template here rather than lost, and the import says how they differ."""
    both = _import(CORPUS / "instructions.prompty")
    assert both.notes == ["instructions not kept: the body below the front matter is the prompt."]
    text = (CORPUS / "instructions.prompty").read_text(encoding="utf-8")
    only = tmp_path / "only.prompty"
    only.write_text(text[: text.index("---", 4) + 4], encoding="utf-8")
    doc = _import(only)
    assert doc.template == "system:\nAn older wording that the body replaces.\n"
    assert doc.notes[0].startswith("The body is empty, so the instructions are the prompt here")
    assert _theirs(only, {}) == []  # what Prompty sends: an empty system message, dropped


def test_prompty_own_role_markers_do_not_change_our_templates() -> None:
    """Only an imported .prompty is rewritten: our own templates keep their meaning."""
    template = "Text before any marker.\n# user:\nstill the same message\n"
    assert render_messages(template, {}) == render_messages(template, {})
    [plain] = import_text("notes.txt", template)
    assert plain.template == template
    assert [m.role for m in render_messages(plain.template, {})] == ["user"]


def test_a_thread_inside_a_line_and_an_example_render_as_prompty_renders_them() -> None:
    doc = _import(CORPUS / "thread_inline.prompty")
    assert doc.variables["topic"] == ""  # an example is not a default: Prompty renders ""
    assert doc.notes == [
        "Examples of inputs are not their values (topic): Prompty renders an input without "
        "a default empty, and so does the import."
    ]
    assert _ours(doc)[1:] == [
        ("user", "Here is what we said:"),
        ("user", "Why is the sea salty?"),  # Prompty's text parts, one message
        ("assistant", "Rivers carry salt into it."),
        ("user", "Go on from there."),
    ]


def test_a_thread_input_exports_back_as_a_thread(tmp_path: Path) -> None:
    doc = _import(CORPUS / "thread.prompty")
    text = to_prompty(doc)
    front = yaml.safe_load(text.split("---\n")[1])
    assert {"name": "conversation", "kind": "thread"}.items() <= front["inputs"][1].items()
    assert "{{ conversation }}" in text and "{% for" not in text
    path = tmp_path / "again.prompty"
    path.write_text(text, encoding="utf-8")
    assert _theirs(path, {}) == _ours(doc)
    assert _import(path).template == doc.template


def test_outputs_become_the_response_format_prompty_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "placeholder-for-load")  # the export names it
    path = CORPUS / "structured.prompty"
    doc = _import(path)
    wire = _output_schema_to_wire(prompty.load(str(path)))
    assert wire is not None
    assert doc.columns[0].params.json_schema == wire["json_schema"]
    # Exported, it is the same outputs again.
    again = tmp_path / "again.prompty"
    again.write_text(to_prompty(doc), encoding="utf-8")
    assert _output_schema_to_wire(prompty.load(str(again))) == wire
    assert _import(again).columns[0].params == doc.columns[0].params


def test_nothing_is_dropped_silently() -> None:
    structured = _import(CORPUS / "structured.prompty")
    assert structured.tags == ["extraction"]
    assert [tool.name for tool in structured.tools] == ["lookup_company"]  # kept (issue 17)
    assert structured.notes == [
        "Run column 1 (model gpt-4o): frequency_penalty not kept (not a run setting).",
        "metadata not kept: authors, version.",
    ]
    legacy = _import(CORPUS / "v1_azure.prompty")
    assert legacy.columns[0].base_url == ""  # not OpenAI's URL in place of an Azure one
    assert "${env:CORPUS_AZURE_ENDPOINT} is not set" in legacy.notes[0]
    assert legacy.notes[1:] == [
        "model.configuration not kept: api_version.",
        "The model ${env:CORPUS_AZURE_DEPLOYMENT:gpt-35-turbo} is read from the environment "
        "by Prompty when it runs (not here: the column takes the file's default, "
        "gpt-35-turbo).",
        "Not kept: authors.",
    ]


def test_v1_endpoints_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    serverless = _import(CORPUS / "v1_serverless.prompty")
    assert serverless.columns[0].base_url == "https://phi-3-mini.eastus2.models.ai.azure.com"
    assert (serverless.columns[0].model, serverless.notes) == ("phi-3-mini", [])
    monkeypatch.setenv("CORPUS_AZURE_ENDPOINT", "https://mine.openai.azure.com")
    azure = _import(CORPUS / "v1_azure.prompty")
    assert azure.columns[0].base_url == "https://mine.openai.azure.com/openai/v1"
    assert "read now" in azure.notes[0]


def test_an_azure_resource_runs_through_its_v1_api(tmp_path: Path) -> None:
    """Prompty reaches an Azure OpenAI resource (v1 ``azure_openai``, v2 ``foundry``) with an
    ``AzureOpenAI`` client built from the bare resource URL; sent as an OpenAI-compatible
    server that URL would answer 404. The import makes it the resource's v1 API
    (``/openai/v1``, which an OpenAI client reaches with the resource's key), says so, and
    the export names Azure's key variable, so the real runtime builds the same client."""
    foundry = _import(CORPUS / "v2_foundry.prompty")
    assert foundry.columns[0].base_url == "https://contoso.openai.azure.com/openai/v1"
    assert foundry.columns[0].model == "gpt-4o-mini"
    assert foundry.notes == [
        "Azure OpenAI is run through its v1 API, https://contoso.openai.azure.com/openai/v1 "
        "(OpenAI-compatible: no api-version; the deployment name is the column's model)."
    ]  # and the key reference is the one the export writes: nothing else to say
    text = (CORPUS / "v1_azure.prompty").read_text(encoding="utf-8")
    for written, expected in [
        ("https://mine.cognitiveservices.azure.com/", "https://mine.cognitiveservices.azure.com/openai/v1"),
        ("https://mine.openai.azure.com/openai", "https://mine.openai.azure.com/openai/v1"),
        ("https://mine.openai.azure.com/openai/v1/", "https://mine.openai.azure.com/openai/v1/"),
        ("https://mine.openai.azure.com.example.net", "https://mine.openai.azure.com.example.net"),
        ("http://mine.openai.azure.com", "http://mine.openai.azure.com"),
    ]:  # fmt: skip
        path = tmp_path / "legacy.prompty"
        path.write_text(text.replace("${env:CORPUS_AZURE_ENDPOINT}", written), encoding="utf-8")
        doc = _import(path)
        assert doc.columns[0].base_url == expected, written
        assert any("v1 API" in note for note in doc.notes) == (expected.endswith("/openai/v1"))
    deployment = tmp_path / "deployment.prompty"  # a path of the older API: as written
    deployment.write_text(
        (CORPUS / "v2_foundry.prompty")
        .read_text(encoding="utf-8")
        .replace("azure.com/\n", "azure.com/openai/deployments/gpt-4o-mini\n"),
        encoding="utf-8",
    )
    doc = _import(deployment)
    assert doc.columns[0].base_url.endswith("/openai/deployments/gpt-4o-mini")
    assert doc.notes == ["The provider foundry is run as an OpenAI-compatible server."]
    serverless = _import(CORPUS / "v1_serverless.prompty")  # not an Azure OpenAI resource
    assert serverless.columns[0].base_url == "https://phi-3-mini.eastus2.models.ai.azure.com"

    exported = tmp_path / "exported.prompty"
    exported.write_text(to_prompty(foundry), encoding="utf-8")
    model = yaml.safe_load(exported.read_text().split("---\n")[1])["model"]
    assert (model["provider"], model["connection"]) == ("openai", {
        "kind": "key",
        "endpoint": "https://contoso.openai.azure.com/openai/v1",
        "apiKey": "${env:AZURE_OPENAI_API_KEY}",
    })  # fmt: skip
    kwargs = OpenAIExecutor()._client_kwargs(prompty.load(str(exported)))
    assert kwargs == {
        "api_key": "placeholder-for-load",
        "base_url": "https://contoso.openai.azure.com/openai/v1",
    }
    promptfoo = yaml.safe_load(to_promptfoo(foundry))["providers"][0]
    assert promptfoo["id"] == "openai:chat:gpt-4o-mini"
    assert promptfoo["config"]["apiBaseUrl"] == "https://contoso.openai.azure.com/openai/v1"
    assert promptfoo["config"]["apiKeyEnvar"] == "AZURE_OPENAI_API_KEY"
    assert "$AZURE_OPENAI_API_KEY" in to_curl(foundry, foundry.variables)


def test_environment_and_key_references_are_listed_and_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``${env:}`` in a model id (a v1 deployment) or an input's default takes the file's
    default, not the environment (the value is stored and sent: a variable may hold a
    key), and is noted, never kept as a model named "${env:...}"; a key the column will not
    send is listed, never shown."""
    monkeypatch.setenv("CORPUS_DEPLOYMENT", "sk-secret-in-the-environment")
    monkeypatch.setenv("CORPUS_CITY", "sk-secret-in-the-environment")
    monkeypatch.setenv("CORPUS_AZURE_DEPLOYMENT", "sk-secret-in-the-environment")
    doc = _import(CORPUS / "env_model.prompty")
    assert (doc.columns[0].model, doc.columns[0].base_url, doc.variables) == (
        "gpt-4o-mini", "https://proxy.example.com/v1", {"city": "Lisbon"},
    )  # fmt: skip
    assert doc.notes == [
        "model.connection not kept: usageDescription.",
        "The model ${env:CORPUS_DEPLOYMENT:gpt-4o-mini} is read from the environment by "
        "Prompty when it runs (not here: the column takes the file's default, gpt-4o-mini).",
        "The key reference ${env:CORPUS_PROXY_KEY:none} is not kept: the column sends the key "
        "PromptStudio keeps for its server (typed in, or the server's usual variable).",
        "Inputs Prompty reads from the environment (city) take the file's default here (the "
        "environment is not read: values are stored and sent).",
    ]
    assert "sk-secret" not in repr(_import(CORPUS / "v1_azure.prompty"))
    text = (CORPUS / "env_model.prompty").read_text(encoding="utf-8")
    written = tmp_path / "written.prompty"
    written.write_text(
        text.replace("${env:CORPUS_PROXY_KEY:none}", "sk-written-in-the-file").replace(
            "${env:CORPUS_DEPLOYMENT:gpt-4o-mini}", "${env:CORPUS_DEPLOYMENT}"
        ),
        encoding="utf-8",
    )
    doc = _import(written)
    assert doc.columns[0].model == ""
    assert doc.notes[1].endswith("Prompty when it runs (not here: type it).")
    assert doc.notes[2].startswith("The key written in model.connection.apiKey is not kept")
    assert "sk-" not in repr(doc)
    # Our own export names the key it would name: nothing to say on the way back.
    [back] = import_text("again.prompty", to_prompty(doc))
    assert back.notes == []


def test_file_references_are_read_only_inside_the_file_folder(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    shutil.copytree(CORPUS, folder)
    doc = _import(folder / "refs.prompty")
    assert doc.variables == {"text": "The meeting moved to Tuesday at ten."}
    assert doc.columns[0].base_url == "http://127.0.0.1:11434/v1"
    text = (folder / "refs.prompty").read_text(encoding="utf-8")
    (tmp_path / "secret.json").write_text('{"endpoint": "http://evil.example"}')
    (folder / "out.prompty").write_text(
        text.replace("shared/connection.json", "../secret.json"), encoding="utf-8"
    )
    with pytest.raises(ExchangeError) as caught:
        import_file(folder / "out.prompty")
    assert caught.value.message.startswith("out.prompty: 'connection' refers to ")
    assert "${file:../secret.json}, outside the file's folder" in caught.value.message
    absolute = str(tmp_path / "secret.json")
    (folder / "abs.prompty").write_text(
        text.replace("shared/connection.json", absolute), encoding="utf-8"
    )
    with pytest.raises(ExchangeError, match="outside the file's folder"):
        import_file(folder / "abs.prompty")
    (folder / "link.json").symlink_to(tmp_path / "secret.json")
    (folder / "link.prompty").write_text(
        text.replace("shared/connection.json", "link.json"), encoding="utf-8"
    )
    with pytest.raises(ExchangeError, match="outside the file's folder"):
        import_file(folder / "link.prompty")
    with pytest.raises(ExchangeError, match=r"import the \.prompty file itself"):
        import_text("refs.prompty", text)
    (folder / "gone.prompty").write_text(
        text.replace("shared/connection.json", "nothing.json"), encoding="utf-8"
    )
    with pytest.raises(ExchangeError, match=r"\$\{file:nothing.json\} does not exist"):
        import_file(folder / "gone.prompty")


LOCAL = {"id": "c1", "profile": "", "base_url": "", "model": "local-model",
         "params": {"temperature": 0.2, "max_tokens": 40}}  # fmt: skip


def test_an_exported_local_server_file_runs_in_prompty_invoke(tmp_path: Path) -> None:
    with FakeLLM() as server:
        server.script(Reply(text="Bonjour, Ada."))
        doc = PromptDocument(
            name="Greeter",
            template="Greet {{ who }} in French.\n",  # no marker: a user message here
            variables={"who": "Ada"},
            columns=columns({**LOCAL, "base_url": server.base_url}),
        )
        path = tmp_path / "greeter.prompty"
        path.write_text(to_prompty(doc), encoding="utf-8")
        connection = yaml.safe_load(path.read_text().split("---\n")[1])["model"]["connection"]
        assert connection == {
            "kind": "key",
            "endpoint": server.base_url,
            "apiKey": "${env:OPENAI_COMPATIBLE_API_KEY:no-key}",
        }
        answer = prompty.invoke(str(path), inputs={"who": "Ada"})
        body = server.chat_requests()[-1].json
    assert answer == "Bonjour, Ada."
    assert body["model"] == "local-model" and body["temperature"] == 0.2
    assert body["messages"] == [{"role": "user", "content": "Greet Ada in French."}]


def test_a_custom_anthropic_profile_exports_as_anthropic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXY_KEY", "placeholder-for-load")
    proxy = ProviderProfile(
        id="claude-proxy", kind="anthropic", name="Claude proxy",
        base_url="https://claude.example.com", key_env="PROXY_KEY",
    )  # fmt: skip
    doc = PromptDocument(
        name="Ask",
        template="system:\nBe brief.\nuser:\nHi\n",
        columns=columns({**LOCAL, "profile": "claude-proxy", "base_url": proxy.base_url}),
        profiles=[proxy],
    )
    model = yaml.safe_load(to_prompty(doc).split("---\n")[1])["model"]
    assert model["provider"] == "anthropic"
    assert model["connection"] == {
        "kind": "key", "endpoint": "https://claude.example.com", "apiKey": "${env:PROXY_KEY}",
    }  # fmt: skip
    curl = to_curl(doc, {})
    assert "https://claude.example.com/v1/messages" in curl and '"x-api-key: $PROXY_KEY"' in curl
    assert '"system": "Be brief."' in curl
    path = tmp_path / "ask.prompty"
    path.write_text(to_prompty(doc), encoding="utf-8")
    agent = prompty.load(str(path))
    assert agent.model is not None and agent.model.provider == "anthropic"


def test_our_own_export_comes_back_exactly() -> None:
    """Only files from elsewhere are rewritten: ours come back as they were written."""
    doc = PromptDocument(
        name="Ours",
        template="Before any marker.\n# user:\n{{ missing }}\nuser[x]:\n",
        variables={"conversation": [{"role": "user", "content": "hi"}]},
    )
    [back] = import_text("ours.prompty", to_prompty(doc))
    assert (back.template, back.variables, back.notes) == (doc.template, doc.variables, [])


def test_the_first_column_api_and_samples_travel(tmp_path: Path) -> None:
    """A column on the Responses API exports as ``apiType: responses`` (which
    ``prompty.invoke`` sends there), and comes back with its API and samples."""
    with FakeLLM() as server:
        server.script(Reply(text="Bonjour."))
        column = {**LOCAL, "base_url": server.base_url, "api": "responses", "samples": 3}
        doc = PromptDocument(
            name="Greeter", template="user:\nGreet Ada.\n", columns=columns(column)
        )
        path = tmp_path / "greeter.prompty"
        path.write_text(to_prompty(doc), encoding="utf-8")
        assert prompty.invoke(str(path)) == "Bonjour."
        assert server.responses_requests()[-1].json["model"] == "local-model"
    [back] = import_file(path)
    assert (back.columns[0].api, back.columns[0].samples, back.notes) == ("responses", 3, [])
    # A file from elsewhere on the Responses API keeps it too.
    elsewhere = path.read_text(encoding="utf-8").replace("promptstudio:", "other:")
    [other] = import_text("other.prompty", elsewhere)
    assert (other.columns[0].api, other.columns[0].samples) == ("responses", 1)


def test_a_further_column_with_broken_settings_is_refused_by_name() -> None:
    text = to_prompty(
        PromptDocument(name="Two", template="user:\nHi\n", columns=columns(LOCAL, LOCAL))
    )
    params = "      params:\n        temperature: 0.2\n        max_tokens: 40\n    markers"
    broken = text.replace(params, "      params: 3\n    markers")
    with pytest.raises(ExchangeError, match=r"^Run column 2 \(model local-model\): 'params' must"):
        import_text("two.prompty", broken)
