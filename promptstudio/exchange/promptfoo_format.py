"""promptfoo configs (``promptfooconfig.yaml``): the prompt, one provider per column, a test.

The template becomes one inline chat-format prompt (a JSON list of messages, split at the
role markers written in the template), which promptfoo renders with Nunjucks, Jinja2's
close cousin. Keys stay in the environment: promptfoo reads ``OPENAI_API_KEY`` and
``ANTHROPIC_API_KEY`` itself, and other OpenAI-compatible hosts name theirs in
``apiKeyEnvar``.
"""

from __future__ import annotations

import json
from typing import Any

from promptstudio.chat import Role
from promptstudio.exchange.document import (
    PromptDocument,
    column_params,
    key_env_var,
    provider_kind,
)
from promptstudio.exchange.front_matter import dump_yaml
from promptstudio.templating.roles import marker_role

TOP_LEVEL_KEYS = ("description", "prompts", "providers", "tests", "defaultTest")

_OPENAI_PARAMS = ("temperature", "max_tokens", "top_p", "stop", "seed")
_ANTHROPIC_PARAMS = ("temperature", "max_tokens", "top_p", "top_k")
_OLLAMA_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "stop": "stop",
    "max_tokens": "num_predict",
}


def to_promptfoo(doc: PromptDocument) -> str:
    """The document as a ``promptfooconfig.yaml`` (keys in a fixed order)."""
    config: dict[str, Any] = {
        "description": doc.description or doc.name,
        "prompts": [chat_prompt(doc.template)],
        "providers": _providers(doc.columns),
        "tests": [{"vars": dict(doc.variables)}],
    }
    # A comment ends at any line break, and YAML refuses control characters.
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in doc.name).split())
    header = f"# promptfoo config exported from PromptStudio: {name}\n"
    return header + dump_yaml(config)


def chat_prompt(template: str) -> str:
    """The template as promptfoo's chat format: a JSON list of ``{role, content}``."""
    turns: list[tuple[Role, list[str]]] = []
    for line in template.replace("\r\n", "\n").split("\n"):
        role = marker_role(line)
        if role is not None:
            turns.append((role, []))
        elif turns:
            turns[-1][1].append(line)
        elif line.strip():
            turns.append(("user", [line]))
    messages = [{"role": role, "content": "\n".join(lines).strip("\n")} for role, lines in turns]
    return json.dumps(messages, indent=2, ensure_ascii=False)


def _providers(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    providers: list[dict[str, Any]] = []
    labels: set[str] = set()
    for index, column in enumerate(columns, start=1):
        kind = provider_kind(column)
        model = str(column.get("model") or "")
        params = column_params(column)
        config: dict[str, Any]
        if kind == "anthropic":
            provider_id = f"anthropic:messages:{model}"
            config = {name: params[name] for name in _ANTHROPIC_PARAMS if name in params}
            if "stop" in params:
                config["stop_sequences"] = params["stop"]
        elif kind == "ollama":
            provider_id = f"ollama:chat:{model}"
            config = {out: params[name] for name, out in _OLLAMA_PARAMS.items() if name in params}
        else:
            provider_id = f"openai:chat:{model}"
            config = {name: params[name] for name in _OPENAI_PARAMS if name in params}
            if kind == "openai-compatible":
                config["apiBaseUrl"] = str(column.get("base_url") or "")
                env_var = key_env_var(config["apiBaseUrl"])
                if env_var:
                    config["apiKeyEnvar"] = env_var
        label = str(column.get("profile") or kind) + f" {model}"
        if label in labels:
            label = f"{label} #{index}"
        labels.add(label)
        entry: dict[str, Any] = {"id": provider_id, "label": label}
        if config:
            entry["config"] = config
        providers.append(entry)
    return providers
