"""Code that sends the prompt as it stands: Python (OpenAI, Anthropic SDKs) and curl.

The template is rendered with the given values first, so the snippet holds the exact
messages. Keys are always read from environment variables in the generated code; no key
is ever looked up here, so none can leak into a snippet.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from promptstudio.chat import Message
from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    OPENAI_URL,
    PromptDocument,
    column_params,
    key_env_var,
    provider_kind,
)
from promptstudio.templating import render_messages

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_ANTHROPIC_MAX_TOKENS = 1024
_OPENAI_PARAMS = ("temperature", "top_p", "max_tokens", "stop", "seed")
_ANTHROPIC_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
}


def to_python_openai(doc: PromptDocument, values: Mapping[str, object], column: int = 0) -> str:
    """A Python script calling Chat Completions with the rendered messages."""
    settings = _column(doc, column, OPENAI_URL)
    messages = render_messages(doc.template, values)
    base_url = str(settings.get("base_url") or OPENAI_URL)
    key = _python_key(base_url, "OPENAI_API_KEY")
    client_args = [f"api_key={key}"]
    if base_url.rstrip("/") != OPENAI_URL:
        client_args.append(f"base_url={base_url!r}")
    params = column_params(settings)
    kwargs = [
        f"    model={str(settings.get('model') or '')!r},",
        "    messages=" + _py_messages(messages) + ",",
    ]
    kwargs += [f"    {name}={_py(params[name])}," for name in _OPENAI_PARAMS if name in params]
    return "\n".join(
        [
            "import os",
            "",
            "from openai import OpenAI",
            "",
            f"client = OpenAI({', '.join(client_args)})",
            "response = client.chat.completions.create(",
            *kwargs,
            ")",
            "print(response.choices[0].message.content)",
            "",
        ]
    )


def to_python_anthropic(doc: PromptDocument, values: Mapping[str, object], column: int = 0) -> str:
    """A Python script calling the Messages API (system messages become ``system=``)."""
    settings = _column(doc, column, ANTHROPIC_URL)
    messages = render_messages(doc.template, values)
    system, turns = _anthropic_split(messages)
    base_url = str(settings.get("base_url") or ANTHROPIC_URL)
    client_args = [f"api_key={_python_key(base_url, 'ANTHROPIC_API_KEY')}"]
    if base_url.rstrip("/") != ANTHROPIC_URL:
        client_args.append(f"base_url={base_url!r}")
    params = column_params(settings)
    kwargs = [
        f"    model={str(settings.get('model') or '')!r},",
        f"    max_tokens={_py(params.get('max_tokens') or DEFAULT_ANTHROPIC_MAX_TOKENS)},",
    ]
    if system:
        kwargs.append(f"    system={system!r},")
    kwargs.append("    messages=" + _py_messages(turns) + ",")
    kwargs += [
        f"    {out}={_py(params[name])},"
        for name, out in _ANTHROPIC_PARAMS.items()
        if name in params
    ]
    return "\n".join(
        [
            "import os",
            "",
            "import anthropic",
            "",
            f"client = anthropic.Anthropic({', '.join(client_args)})",
            "message = client.messages.create(",
            *kwargs,
            ")",
            'print("".join(block.text for block in message.content if block.type == "text"))',
            "",
        ]
    )


def to_curl(doc: PromptDocument, values: Mapping[str, object], column: int = 0) -> str:
    """A POSIX shell ``curl`` command; the key comes from ``$VARIABLE`` at run time."""
    settings = _column(doc, column, OPENAI_URL)
    messages = render_messages(doc.template, values)
    params = column_params(settings)
    model = str(settings.get("model") or "")
    if provider_kind(settings) == "anthropic":
        base_url = str(settings.get("base_url") or ANTHROPIC_URL).rstrip("/")
        system, turns = _anthropic_split(messages)
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": params.get("max_tokens") or DEFAULT_ANTHROPIC_MAX_TOKENS,
        }
        if system:
            body["system"] = system
        body["messages"] = [m.to_dict() for m in turns]
        body |= {out: params[name] for name, out in _ANTHROPIC_PARAMS.items() if name in params}
        env_var = key_env_var(base_url) or "ANTHROPIC_API_KEY"
        headers = [
            f'-H "x-api-key: ${env_var}"',
            f"-H {shlex.quote('anthropic-version: ' + ANTHROPIC_VERSION)}",
        ]
        url = base_url + "/v1/messages"
    else:
        base_url = str(settings.get("base_url") or OPENAI_URL).rstrip("/")
        body = {"model": model, "messages": [m.to_dict() for m in messages]}
        body |= {name: params[name] for name in _OPENAI_PARAMS if name in params}
        env_var = key_env_var(base_url) or (
            "OPENAI_API_KEY" if base_url.startswith("https://") else ""
        )
        headers = [f'-H "Authorization: Bearer ${env_var}"'] if env_var else []
        url = base_url + "/chat/completions"
    lines = [f"curl {shlex.quote(url)}", *headers, "-H 'Content-Type: application/json'", "-d @-"]
    payload = json.dumps(body, indent=2, ensure_ascii=False)
    # A quoted here-document: the shell expands nothing inside the JSON.
    return " \\\n  ".join(lines) + " <<'JSON'\n" + payload + "\nJSON\n"


def _column(doc: PromptDocument, index: int, default_url: str) -> dict[str, Any]:
    if 0 <= index < len(doc.columns):
        return doc.columns[index]
    return {"base_url": default_url, "model": "", "params": {}}


def _python_key(base_url: str, default_var: str) -> str:
    env_var = key_env_var(base_url)
    if env_var is None and not base_url.startswith("https://"):
        return repr("no-key")  # a local server: no key, and none offered over plain http
    return f"os.environ[{(env_var or default_var)!r}]"


def _anthropic_split(messages: list[Message]) -> tuple[str, list[Message]]:
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    return system, [m for m in messages if m.role != "system"]


def _py_messages(messages: list[Message]) -> str:
    if not messages:
        return "[]"
    items = [f"        {{'role': {m.role!r}, 'content': {m.content!r}}}," for m in messages]
    return "[\n" + "\n".join(items) + "\n    ]"


def _py(value: object) -> str:
    """A Python literal for JSON-ready data (``repr`` is exact for these types)."""
    return repr(value)
