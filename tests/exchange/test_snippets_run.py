"""The code snippets run: executed as a user would, each reaches our fake server on
127.0.0.1 with exactly the rendered messages, the model and the column's settings.

Nothing here touches the internet or a real key: the snippets run in a subprocess whose
environment holds only a fake key and no proxy that could intercept 127.0.0.1.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promptstudio.credentials import ENV_KEY_VARS
from promptstudio.exchange import (
    ExchangeError,
    PromptDocument,
    to_curl,
    to_python_anthropic,
    to_python_openai,
)
from promptstudio.templating import TemplateError
from tests.exchange.samples import columns
from tests.fake_llm import FakeLLM, Reply

FAKE_KEY = "sk-test-not-real"
ANSWER = "Scripted answer: 42 apples, no pears."

# Quotes, shell syntax and Jinja-looking text in a value must reach the server verbatim.
TEMPLATE = """system:
You are a {{ tone }} assistant.

user:
Summarise for {{ name }}:
{% for item in items %}- {{ item }}
{% endfor %}
assistant:
Which format?

user:
Bullets, in {{ lang }}.

system:
Never mention $HOME.
"""
VALUES = {
    "tone": "dry",
    "name": 'O\'Brien "the" `id` $(echo hi) {{ user }}',
    "items": ["a", "b"],
    "lang": "français",
}
MESSAGES = [
    {"role": "system", "content": "You are a dry assistant."},
    {
        "role": "user",
        "content": 'Summarise for O\'Brien "the" `id` $(echo hi) {{ user }}:\n- a\n- b',
    },
    {"role": "assistant", "content": "Which format?"},
    {"role": "user", "content": "Bullets, in français."},
    {"role": "system", "content": "Never mention $HOME."},
]
OPENAI_PARAMS = {
    "temperature": 0.3,
    "top_p": 0.9,
    "top_k": 40,
    "max_tokens": 64,
    "stop": ["END", "STOP"],
    "seed": 7,
}
ANTHROPIC_PARAMS = {
    "temperature": 0.5,
    "top_p": 0.8,
    "top_k": 20,
    "max_tokens": 300,
    "stop": ["END"],
}


def _openai_document(server: FakeLLM) -> PromptDocument:
    column = {
        "id": "c1",
        "profile": "openai",
        "base_url": server.base_url,  # OpenAI's base URL includes /v1
        "model": "fake-model",
        "params": dict(OPENAI_PARAMS),
    }
    return PromptDocument(name="run me", template=TEMPLATE, columns=columns(column))


def _anthropic_document(server: FakeLLM) -> PromptDocument:
    column = {
        "id": "c2",
        "profile": "anthropic",
        "base_url": server.anthropic_base_url,  # without /v1: the SDK adds /v1/messages
        "model": "claude-fake",
        "params": dict(ANTHROPIC_PARAMS),
    }
    return PromptDocument(name="run me", template=TEMPLATE, columns=columns(column))


# What each server should receive (an OpenAI-compatible server gets top_k in the body).
OPENAI_BODY: dict[str, Any] = {"model": "fake-model", "messages": MESSAGES, **OPENAI_PARAMS}
ANTHROPIC_BODY: dict[str, Any] = {
    "model": "claude-fake",
    "max_tokens": 300,
    "system": "You are a dry assistant.\n\nNever mention $HOME.",
    "messages": [m for m in MESSAGES if m["role"] != "system"],
    "stop_sequences": ["END"],
    "temperature": 0.5,
    "top_p": 0.8,
    "top_k": 20,
}


def _snippet_env(home: Path) -> dict[str, str]:
    """The caller's environment without proxies, provider settings or real keys."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy")
        and not name.startswith(("OPENAI_", "ANTHROPIC_"))
        and name not in ENV_KEY_VARS
    }
    local = "127.0.0.1,localhost"
    env |= {"NO_PROXY": local, "no_proxy": local, "CURL_HOME": str(home)}  # no ~/.curlrc
    # Offered in case a snippet reads them; a plain-http URL must get neither.
    env |= {"OPENAI_API_KEY": FAKE_KEY, "ANTHROPIC_API_KEY": FAKE_KEY}
    return env


def _run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        env=_snippet_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert result.returncode == 0, result.stderr
    return result


def _run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "snippet.py"
    path.write_text(code, encoding="utf-8")
    return _run([sys.executable, str(path)], tmp_path)


def _unused_imports(code: str) -> set[str]:
    """Names a snippet imports and never uses (a linter would flag them)."""
    tree = ast.parse(code)
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return imported - used


def _only_request(server: FakeLLM) -> Any:
    requests = server.generation_requests()
    assert len(requests) == 1, [r.path for r in server.requests]
    return requests[0]


def _sent_key(headers: dict[str, str]) -> str:
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


def test_openai_python_snippet_runs_against_the_fake_server(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.script(Reply(text=ANSWER))
    code = to_python_openai(_openai_document(fake_llm), VALUES)
    assert not _unused_imports(code)  # no `import os` without a key to read

    result = _run_python(code, tmp_path)

    assert result.stdout == ANSWER + "\n"
    request = _only_request(fake_llm)
    assert request.path == "/v1/chat/completions"
    assert request.json == OPENAI_BODY
    assert _sent_key(request.headers) == "no-key"  # no key offered over plain http


def test_anthropic_python_snippet_streams_with_system_at_the_top(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.script(Reply(text=ANSWER))
    code = to_python_anthropic(_anthropic_document(fake_llm), VALUES)
    assert not _unused_imports(code)

    result = _run_python(code, tmp_path)

    assert result.stdout == ANSWER + "\n"
    request = _only_request(fake_llm)
    assert request.path == "/v1/messages"
    body = dict(request.json)
    assert body.pop("stream") is True
    assert body == ANTHROPIC_BODY
    assert _sent_key(request.headers) == "no-key"


@pytest.mark.parametrize(
    ("make_document", "path", "expected"),
    [
        (_openai_document, "/v1/chat/completions", OPENAI_BODY),
        (_anthropic_document, "/v1/messages", ANTHROPIC_BODY),
    ],
    ids=["openai", "anthropic"],
)
def test_curl_snippet_runs_against_the_fake_server(
    fake_llm: FakeLLM,
    tmp_path: Path,
    make_document: Callable[[FakeLLM], PromptDocument],
    path: str,
    expected: dict[str, Any],
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    fake_llm.script(Reply(text=ANSWER))
    snippet = to_curl(make_document(fake_llm), VALUES)

    result = _run(["bash", "-c", snippet], tmp_path)

    request = _only_request(fake_llm)
    assert request.path == path
    assert request.json == expected
    assert _sent_key(request.headers) == ""  # no key header for a plain-http URL
    reply = json.loads(result.stdout)  # asked without "stream": one JSON object
    if path == "/v1/messages":
        assert request.headers["anthropic-version"]
        assert reply["content"][0]["text"] == ANSWER
    else:
        assert reply["choices"][0]["message"]["content"] == ANSWER


@pytest.mark.parametrize(
    "export", [to_python_openai, to_python_anthropic, to_curl], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(
    ("template", "line", "column"),
    [
        ("system:\nBe brief.\nuser:\nHello {{ who }}\n{{ missing }}", 5, 4),
        ("user:\nHello\n{% if %}\n", 3, 7),
    ],
    ids=["missing-variable", "syntax-error"],
)
def test_a_template_error_becomes_an_exchange_error_with_its_line(
    export: Callable[[PromptDocument, dict[str, object]], str],
    template: str,
    line: int,
    column: int,
) -> None:
    doc = PromptDocument(name="broken", template=template)
    with pytest.raises(ExchangeError) as caught:
        export(doc, {"who": "Ada"})
    error = caught.value
    assert error.line == line
    assert "could not be rendered" in str(error)
    assert f"{line}:{column}" in str(error)
    assert isinstance(error.__cause__, TemplateError)


def test_a_hosted_api_snippet_reads_its_key_from_the_environment() -> None:
    hosted = PromptDocument(
        name="hosted",
        template=TEMPLATE,
        columns=columns({"base_url": "https://api.openai.com/v1", "model": "gpt-4o", "params": {}}),
    )
    for make in (to_python_openai, to_python_anthropic):
        code = make(hosted, VALUES)
        assert "import os" in code and "os.environ[" in code and not _unused_imports(code)
