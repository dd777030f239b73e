"""Code that sends the prompt as it stands: Python (OpenAI, Anthropic SDKs) and curl.

The template is rendered with the given values first, so the snippet holds the exact
messages; a template that cannot be rendered raises :class:`ExchangeError`. Keys are
always read from environment variables in the generated code; no key is ever looked up
here, so none can leak into a snippet, and none is offered to a plain-``http`` URL.

The parameters go out as the app's providers send them: ``max_tokens`` is
``max_completion_tokens`` for OpenAI itself, ``top_k`` an extra body field for
OpenAI-compatible servers, and Anthropic's ``temperature``/``top_p``/``top_k`` travel in
``extra_body`` (anthropic 2.12's ``messages.stream`` does not declare them). The
Anthropic script streams, as the app does.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from promptstudio.chat import Message
from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    OPENAI_URL,
    PromptDocument,
    column_key_env,
    column_params,
    provider_kind,
)
from promptstudio.exchange.errors import ExchangeError
from promptstudio.providers import ChatRequest
from promptstudio.providers.content_parts import anthropic_message
from promptstudio.providers.tool_wire import anthropic_tools, chat_tools
from promptstudio.runs.columns import ColumnConfig
from promptstudio.templating import TemplateError, render_messages

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_ANTHROPIC_MAX_TOKENS = 1024
_OPENAI_PARAMS = ("temperature", "top_p", "max_tokens", "stop", "seed")
_ANTHROPIC_SAMPLING = ("temperature", "top_p", "top_k")


def to_python_openai(doc: PromptDocument, values: Mapping[str, object], column: int = 0) -> str:
    """A Python script calling Chat Completions with the rendered messages."""
    settings = _column(doc, column, OPENAI_URL)
    messages = _render(doc.template, values)
    base_url = settings.base_url or OPENAI_URL
    key = _python_key(base_url, column_key_env(settings, doc.profiles), "OPENAI_API_KEY")
    client_args = [f"api_key={key}"]
    if base_url.rstrip("/") != OPENAI_URL:
        client_args.append(f"base_url={base_url!r}")
    kwargs = [
        f"    model={settings.model!r},",
        "    messages=" + _py_messages(messages) + ",",
    ]
    params, extra = _openai_params(settings, provider_kind(settings, doc.profiles))
    params |= _tool_args(doc, settings, "openai")
    kwargs += [f"    {name}={_py(value)}," for name, value in params.items()]
    if extra:
        kwargs.append(f"    extra_body={_py(extra)},")
    show_calls = (
        ["for call in response.choices[0].message.tool_calls or []:",
         "    print('tool call:', call.function.name, call.function.arguments)"]
        if doc.tools
        else []
    )  # fmt: skip
    return "\n".join(
        [
            *_os_import(key),
            "from openai import OpenAI",
            "",
            f"client = OpenAI({', '.join(client_args)})",
            "response = client.chat.completions.create(",
            *kwargs,
            ")",
            'print(response.choices[0].message.content or "")',
            *show_calls,
            "",
        ]
    )


def to_python_anthropic(doc: PromptDocument, values: Mapping[str, object], column: int = 0) -> str:
    """A Python script streaming from the Messages API (system messages become ``system=``)."""
    settings = _column(doc, column, ANTHROPIC_URL)
    messages = _render(doc.template, values)
    system, turns = _anthropic_split(messages)
    base_url = settings.base_url or ANTHROPIC_URL
    key = _python_key(base_url, column_key_env(settings, doc.profiles), "ANTHROPIC_API_KEY")
    client_args = [f"api_key={key}"]
    if base_url.rstrip("/") != ANTHROPIC_URL:
        client_args.append(f"base_url={base_url!r}")
    params = column_params(settings)
    kwargs = [
        f"    model={settings.model!r},",
        f"    max_tokens={_py(params.get('max_tokens') or DEFAULT_ANTHROPIC_MAX_TOKENS)},",
    ]
    if system:
        kwargs.append(f"    system={system!r},")
    kwargs.append("    messages=" + _py_messages(turns, anthropic_message) + ",")
    if params.get("stop"):
        kwargs.append(f"    stop_sequences={_py(params['stop'])},")
    kwargs += [
        f"    {name}={_py(value)},"
        for name, value in _tool_args(doc, settings, "anthropic").items()
    ]
    sampling = {name: params[name] for name in _ANTHROPIC_SAMPLING if name in params}
    if sampling:
        kwargs.append(f"    extra_body={_py(sampling)},")
    show_calls = (
        ["for block in stream.get_final_message().content:",
         "    if block.type == 'tool_use':",
         "        print('tool call:', block.name, block.input)"]
        if doc.tools
        else []
    )  # fmt: skip
    return "\n".join(
        [
            *_os_import(key),
            "import anthropic",
            "",
            f"client = anthropic.Anthropic({', '.join(client_args)})",
            "with client.messages.stream(",
            *kwargs,
            ") as stream:",
            "    for text in stream.text_stream:",
            '        print(text, end="", flush=True)',
            *("    " + line for line in show_calls),
            "print()",
            "",
        ]
    )


def to_curl(doc: PromptDocument, values: Mapping[str, object], column: int = 0) -> str:
    """A POSIX shell ``curl`` command; the key comes from ``$VARIABLE`` at run time."""
    settings = _column(doc, column, OPENAI_URL)
    messages = _render(doc.template, values)
    params = column_params(settings)
    model = settings.model
    kind = provider_kind(settings, doc.profiles)
    env_var = column_key_env(settings, doc.profiles)
    if kind == "anthropic":
        base_url = (settings.base_url or ANTHROPIC_URL).rstrip("/")
        system, turns = _anthropic_split(messages)
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": params.get("max_tokens") or DEFAULT_ANTHROPIC_MAX_TOKENS,
        }
        if system:
            body["system"] = system
        body["messages"] = [anthropic_message(m) for m in turns]
        if params.get("stop"):
            body["stop_sequences"] = params["stop"]
        body |= {name: params[name] for name in _ANTHROPIC_SAMPLING if name in params}
        body |= _tool_args(doc, settings, "anthropic")
        env_var = env_var or ("ANTHROPIC_API_KEY" if base_url.startswith("https://") else "")
        headers = [f'-H "x-api-key: ${env_var}"'] if env_var else []
        headers.append(f"-H {shlex.quote('anthropic-version: ' + ANTHROPIC_VERSION)}")
        url = base_url + "/v1/messages"
    else:
        base_url = (settings.base_url or OPENAI_URL).rstrip("/")
        body = {"model": model, "messages": [m.to_dict() for m in messages]}
        openai_params, extra = _openai_params(settings, kind)
        body |= openai_params | extra | _tool_args(doc, settings, "openai")
        env_var = env_var or ("OPENAI_API_KEY" if base_url.startswith("https://") else "")
        headers = [f'-H "Authorization: Bearer ${env_var}"'] if env_var else []
        url = base_url + "/chat/completions"
    lines = [f"curl {shlex.quote(url)}", *headers, "-H 'Content-Type: application/json'", "-d @-"]
    payload = json.dumps(body, indent=2, ensure_ascii=False)
    # A quoted here-document: the shell expands nothing inside the JSON.
    return " \\\n  ".join(lines) + " <<'JSON'\n" + payload + "\nJSON\n"


def _render(template: str, values: Mapping[str, object]) -> list[Message]:
    """The rendered messages; a template error becomes an :class:`ExchangeError`."""
    try:
        return render_messages(template, values, allow_empty=True)  # an empty prompt exports
    except TemplateError as exc:
        raise ExchangeError(
            f"The template could not be rendered (at {exc.location()}): {exc.message}",
            line=exc.line,
        ) from exc


def _openai_params(settings: ColumnConfig, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Chat Completions arguments and extra body fields, named as the app sends them."""
    params = column_params(settings)
    # OpenAI rejects max_tokens for its reasoning models; most compatible servers
    # do not know the newer name.
    rename = {"max_tokens": "max_completion_tokens"} if kind == "openai" else {}
    out = {rename.get(name, name): params[name] for name in _OPENAI_PARAMS if name in params}
    extra = {"top_k": params["top_k"]} if "top_k" in params and kind != "openai" else {}
    return out, extra


def _tool_args(doc: PromptDocument, settings: ColumnConfig, api: str) -> dict[str, Any]:
    """The prompt's tools (and the column's tool choice), as the app sends them."""
    request = ChatRequest((), settings.model, settings.params, tuple(doc.tools))
    return anthropic_tools(request) if api == "anthropic" else chat_tools(request)


def _column(doc: PromptDocument, index: int, default_url: str) -> ColumnConfig:
    if 0 <= index < len(doc.columns):
        return doc.columns[index]
    return ColumnConfig(base_url=default_url)


def _python_key(base_url: str, env_var: str | None, default_var: str) -> str:
    if env_var is None and not base_url.startswith("https://"):
        return repr("no-key")  # a local server: no key, and none offered over plain http
    return f"os.environ[{(env_var or default_var)!r}]"


def _os_import(key: str) -> list[str]:
    """``import os`` (and a blank line) when the key is read from the environment."""
    return ["import os", ""] if key.startswith("os.environ") else []


def _anthropic_split(messages: list[Message]) -> tuple[str, list[Message]]:
    # Images are sent in user messages only; a system message's text is all it has.
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    return system, [m for m in messages if m.role != "system"]


def _py_messages(
    messages: list[Message], shape: Callable[[Message], dict[str, Any]] = Message.to_dict
) -> str:
    """The messages as Python literals; with images, in the API's parts (data URLs inline)."""
    if not messages:
        return "[]"
    items = [
        f"        {{'role': {m.role!r}, 'content': {m.content!r}}},"
        if not m.parts
        else f"        {shape(m)!r},"
        for m in messages
    ]
    return "[\n" + "\n".join(items) + "\n    ]"


def _py(value: object) -> str:
    """A Python literal for JSON-ready data (``repr`` is exact for these types)."""
    return repr(value)
