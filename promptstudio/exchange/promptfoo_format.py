"""promptfoo configs (``promptfooconfig.yaml``): written from a prompt, and read back.

Export: the template becomes one inline chat-format prompt (a JSON list of messages, split
at the role markers written in the template) labelled with the prompt's name, which
promptfoo renders with Nunjucks, Jinja2's close cousin. Each run column becomes a
provider, each test case a test (``description``, ``vars``, ``assert``, and the expected
answer in ``metadata.expected``), its checks written so promptfoo grades them as
PromptStudio does (:func:`promptfoo_check`), a list of texts kept as one value
(``disableVarExpansion``); without test cases, one test holds the current variables;
the prompt's checks for every case go to ``defaultTest``. Keys stay in the environment:
promptfoo reads ``OPENAI_API_KEY`` and ``ANTHROPIC_API_KEY`` itself, other
OpenAI-compatible hosts (and profiles that name a variable) name theirs in ``apiKeyEnvar``,
and a server that needs no key (its profile says so, or it is reached over plain http)
gets a placeholder (``apiKey: no-key``); a profile of kind openai pointing at another
server sends promptfoo there too (``apiBaseUrl``).

Reading them back is :mod:`promptstudio.exchange.promptfoo_import`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from promptstudio.chat import Role
from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    OPENAI_URL,
    PromptDocument,
    column_key_env,
    column_params,
    column_profile,
    provider_kind,
)
from promptstudio.exchange.front_matter import dump_yaml
from promptstudio.exchange.image_exchange import content_parts, embedded
from promptstudio.providers import ChatRequest, ProviderProfile
from promptstudio.providers.tool_wire import anthropic_tools, chat_tools
from promptstudio.runs.columns import ColumnConfig
from promptstudio.templating.roles import marker_role
from promptstudio.templating.source import normalise
from promptstudio.tools import ToolDef

_OPENAI_PARAMS = ("temperature", "max_tokens", "top_p", "stop", "seed", "reasoning_effort")
_ANTHROPIC_PARAMS = ("temperature", "max_tokens", "top_p", "top_k")
_OLLAMA_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "stop": "stop",
    "max_tokens": "num_predict",
}
_SCHEMA_NAME = "response"  # the name a bare JSON Schema gets in OpenAI's wrapper
LOGPROB_CHECKS = frozenset({"perplexity", "perplexity-score"})
NO_KEY = "no-key"  # what a server that needs no key is sent (promptfoo requires one)


# ---- export --------------------------------------------------------------------------


def to_promptfoo(doc: PromptDocument) -> str:
    """The document as a ``promptfooconfig.yaml`` (keys in a fixed order)."""
    config: dict[str, Any] = {
        "description": doc.description or doc.name,
        "prompts": [{"label": doc.name, "raw": chat_prompt(doc.template)}],
        "providers": _providers(doc.columns, doc.profiles, doc.tools, _wants_logprobs(doc)),
        "tests": [_test(case) for case in doc.cases or [{"vars": doc.variables}]],
    }
    default: dict[str, Any] = {}
    if doc.every_case_checks:  # graded with each test's own, as PromptStudio grades them
        default["assert"] = [promptfoo_check(check) for check in doc.every_case_checks]
    judge = [column for column in doc.columns if column.id == doc.judge_column]
    if judge:  # the model grading llm-rubric checks (promptfoo's own prompt for it)
        [provider] = _providers(judge, doc.profiles)
        default["options"] = {"provider": provider}
    if default:
        config["defaultTest"] = default
    # A comment ends at any line break, and YAML refuses control characters.
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in doc.name).split())
    header = f"# promptfoo config exported from PromptStudio: {name}\n"
    return header + dump_yaml(config)


def chat_prompt(template: str) -> str:
    """The template as promptfoo's chat format: a JSON list of ``{role, content}``."""
    turns: list[tuple[Role, list[str]]] = []
    # Line ends as the template engine reads them: a lone "\r" ends a line there too.
    for line in normalise(template).split("\n"):
        role = marker_role(line)
        if role is not None:
            turns.append((role, []))
        elif turns:
            turns[-1][1].append(line)
        elif line.strip():
            turns.append(("user", [line]))
    messages = [
        {"role": role, "content": content_parts("\n".join(lines).strip("\n"))}
        for role, lines in turns
    ]
    return json.dumps(messages, indent=2, ensure_ascii=False)


def _embedded(variables: dict[str, Any]) -> dict[str, Any]:
    """Values with image files as data URLs: promptfoo puts them into ``image_url`` parts."""
    return {name: embedded(value) for name, value in variables.items()}


def _test(case: dict[str, Any]) -> dict[str, Any]:
    """One test case in promptfoo's documented test keys, graded as PromptStudio grades it.

    promptfoo has no "expected answer": a case with one and no checks gets the ``equals``
    check PromptStudio grades it by, and an ``equals`` without a value gets the answer as
    its value. The answer itself goes into ``metadata``, promptfoo's place for extra data,
    so that an import gives the case back as it was.
    """
    test: dict[str, Any] = {}
    if case.get("description"):
        test["description"] = case["description"]
    test["vars"] = _embedded(dict(case.get("vars") or {}))
    if any(isinstance(v, list) and v and isinstance(v[0], str) for v in test["vars"].values()):
        # promptfoo would run the test once per text of the list: here the list is a value.
        test["options"] = {"disableVarExpansion": True}
    expected = case.get("expected")
    checks = list(case.get("assert") or [])
    if not checks and expected is not None:
        checks = [{"type": "equals"}]
    if checks:
        test["assert"] = [promptfoo_check(check, expected) for check in checks]
    if case.get("threshold") is not None:
        test["threshold"] = case["threshold"]
    if expected is not None:
        test["metadata"] = {"expected": expected}
    return test


# Our character counts as promptfoo's JavaScript checks: Array.from counts code points,
# as Python's len() does (output.length would count UTF-16 units: an emoji is 2).
_LENGTH_TESTS = {
    "max-length": "<=",
    "not-max-length": ">",
    "min-length": ">=",
    "not-min-length": "<",
}
_LENGTH_JAVASCRIPT = re.compile(r"Array\.from\(output\)\.length (<=|>=|<|>) (\d+)")
# contains-tool-call is PromptStudio's own check: promptfoo runs it as this JavaScript, which
# finds the calls in its output (OpenAI's tool_calls, Anthropic's tool_use blocks as JSON
# text) and compares each call's arguments as PromptStudio does, as a JSON subset. The
# check's value follows, as JSON, then ")".
_TOOL_CALL_JAVASCRIPT = (
    "((v) => { const want = typeof v !== 'string' ? v : v.trim().startsWith('{') ? "
    "JSON.parse(v) : { name: v.trim() }; const sub = (a, w) => w !== null && typeof w === "
    "'object' ? (Array.isArray(w) ? Array.isArray(a) && w.every((i) => a.some((h) => sub(h, "
    "i))) : a !== null && typeof a === 'object' && !Array.isArray(a) && Object.keys(w)"
    ".every((k) => k in a && sub(a[k], w[k]))) : a === w; const parse = (t) => { try { "
    "return JSON.parse(t); } catch { return null; } }; const calls = Array.isArray(output) "
    "? output : output && typeof output === 'object' ? output.tool_calls || [] : String("
    "output).split('\\n\\n').map(parse).filter((b) => b && b.type === 'tool_use'); "
    "return calls.some((c) => { const f = c.function || c; const args = f.input || (typeof "
    "f.arguments === 'string' ? parse(f.arguments || '{}') : f.arguments || {}); return "
    "f.name === want.name && args !== null && sub(args, want.arguments || {}); }); })("
)


def promptfoo_check(check: Mapping[str, Any], expected: object = None) -> dict[str, Any]:
    """``check`` as promptfoo writes the same test: a length check and ``contains-tool-call``
    (PromptStudio's own types) become JavaScript, and ``equals`` without a value compares
    with ``expected``. Other keys are kept."""
    out = dict(check)
    written = out.get("type")
    if written in _LENGTH_TESTS and isinstance(out.get("value"), int):
        out["type"] = "javascript"
        out["value"] = f"Array.from(output).length {_LENGTH_TESTS[written]} {out['value']}"
    elif written in ("contains-tool-call", "not-contains-tool-call") and "value" in out:
        out["type"] = written.replace("contains-tool-call", "javascript")
        out["value"] = _TOOL_CALL_JAVASCRIPT + json.dumps(out["value"], ensure_ascii=False) + ")"
    elif written in ("equals", "not-equals") and out.get("value") is None and expected is not None:
        out["value"] = expected
    return out


def check_from_promptfoo(check: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`promptfoo_check` for the JavaScript it writes; other checks
    as they are."""
    out = dict(check)
    value = out.get("value")
    if out.get("type") == "javascript" and isinstance(value, str):
        found = _LENGTH_JAVASCRIPT.fullmatch(value.strip())
        if found:
            written = {op: name for name, op in _LENGTH_TESTS.items()}[found[1]]
            out["type"], out["value"] = written, int(found[2])
    if out.get("type") in ("javascript", "not-javascript") and isinstance(value, str):
        wanted = value.removeprefix(_TOOL_CALL_JAVASCRIPT)
        if wanted != value and wanted.endswith(")"):
            try:
                out["value"] = json.loads(wanted[:-1])
            except json.JSONDecodeError:
                return out
            out["type"] = str(out["type"]).replace("javascript", "contains-tool-call")
    return out


def _wants_logprobs(doc: PromptDocument) -> bool:
    """Whether a check needs the answer's log-probabilities (``perplexity``): promptfoo's
    OpenAI provider asks for them only when its config says so (PromptStudio asks itself)."""
    checks = [*doc.every_case_checks, *(c for case in doc.cases for c in case.get("assert") or ())]
    return any(
        str(check.get("type", "")).removeprefix("not-") in LOGPROB_CHECKS for check in checks
    )


def _providers(
    columns: list[ColumnConfig],
    profiles: Sequence[ProviderProfile],
    tools: Sequence[ToolDef] = (),
    logprobs: bool = False,
) -> list[dict[str, Any]]:
    providers: list[dict[str, Any]] = []
    labels: set[str] = set()
    for index, column in enumerate(columns, start=1):
        kind = provider_kind(column, profiles)
        model = column.model
        params = column_params(column)
        base_url = column.base_url
        config: dict[str, Any]
        if kind == "anthropic":
            provider_id = f"anthropic:messages:{model}"
            config = {name: params[name] for name in _ANTHROPIC_PARAMS if name in params}
            if "stop" in params:
                config["stop_sequences"] = params["stop"]
            if params.get("thinking_budget") is not None:
                config["thinking"] = {"type": "enabled", "budget_tokens": params["thinking_budget"]}
            if base_url and base_url.rstrip("/") != ANTHROPIC_URL:
                config["apiBaseUrl"] = base_url
                config |= _key_config(column, profiles, "ANTHROPIC_API_KEY")
        elif kind == "ollama":
            provider_id = f"ollama:chat:{model}"
            config = {out: params[name] for name, out in _OLLAMA_PARAMS.items() if name in params}
        else:
            provider_id = f"openai:chat:{model}"
            config = {name: params[name] for name in _OPENAI_PARAMS if name in params}
            response_format = _response_format(params)
            if response_format:
                config["response_format"] = response_format
            # A compatible server, or a profile of kind openai pointing elsewhere (a proxy,
            # a server on this machine): promptfoo is sent there too.
            if kind == "openai-compatible" or (base_url and base_url.rstrip("/") != OPENAI_URL):
                config["apiBaseUrl"] = base_url
                config |= _key_config(column, profiles, "OPENAI_API_KEY")
            if logprobs:
                config["passthrough"] = {"logprobs": True}
        if tools:  # in each provider's own shape, as PromptStudio sends them
            request = ChatRequest((), model, column.params, tuple(tools))
            config.update(anthropic_tools(request) if kind == "anthropic" else chat_tools(request))
        label = (column.profile or kind) + f" {model}"
        if label in labels:
            label = f"{label} #{index}"
        labels.add(label)
        entry: dict[str, Any] = {"id": provider_id, "label": label}
        if config:
            entry["config"] = config
        providers.append(entry)
    return providers


def _key_config(
    column: ColumnConfig, profiles: Sequence[ProviderProfile], default_var: str
) -> dict[str, str]:
    """Where promptfoo finds the key for a host other than the vendor's own.

    A server that needs no key (its profile says so, or it is reached over plain http, as
    a local one is) gets a placeholder, as PromptStudio's own code snippets send: promptfoo
    refuses to start a provider without a key, and would otherwise send ``OPENAI_API_KEY``
    there (in clear text over http). Otherwise the variable the profile or the known host
    names (promptfoo's ``apiKeyEnvar``; its Anthropic provider reads only its own).
    """
    profile = column_profile(column, profiles)
    env_var = column_key_env(column, profiles)
    if profile is not None and not profile.needs_key:
        return {"apiKey": NO_KEY}
    if env_var and env_var != default_var and default_var == "OPENAI_API_KEY":
        return {"apiKeyEnvar": env_var}
    if env_var is None and not column.base_url.lower().startswith("https://"):
        return {"apiKey": NO_KEY}
    return {}


def _response_format(params: dict[str, Any]) -> dict[str, Any] | None:
    schema = params.get("json_schema")
    if isinstance(schema, dict):
        wrapped = schema if {"name", "schema"} <= schema.keys() else None
        return {
            "type": "json_schema",
            "json_schema": wrapped or {"name": _SCHEMA_NAME, "schema": schema},
        }
    if params.get("json_mode"):
        return {"type": "json_object"}
    return None
