"""promptfoo configs read back: one :class:`PromptDocument` per prompt of the config.

Reads our own exports (:mod:`promptstudio.exchange.promptfoo_format`) and configs written
by hand in promptfoo's documented style; :func:`from_promptfoo` says what is kept and
what is skipped.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from promptstudio.chat import ROLES
from promptstudio.evals.graders import ungraded_reason
from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    OPENAI_URL,
    PromptDocument,
    TemplateOrigin,
)
from promptstudio.exchange.errors import ExchangeError, OutsideReferenceError
from promptstudio.exchange.front_matter import BAD_ESCAPE
from promptstudio.exchange.image_exchange import text_of_parts
from promptstudio.exchange.json_format import checked_column_params
from promptstudio.exchange.promptfoo_format import (
    _ANTHROPIC_PARAMS,
    _OLLAMA_PARAMS,
    _OPENAI_PARAMS,
    _SCHEMA_NAME,
    check_from_promptfoo,
)
from promptstudio.exchange.reading import MAX_IMPORT_BYTES, checked_text
from promptstudio.providers import GenerationParams
from promptstudio.runs.columns import ColumnConfig
from promptstudio.templating.roles import marker_role
from promptstudio.tools import ToolDef, ToolsError, tools_from_data

OLLAMA_URL = "http://localhost:11434/v1"
# promptfoo's OpenAI endpoints that are not chat: such providers are skipped on import.
_OPENAI_OTHER_ENDPOINTS = frozenset(
    {
        "completion",
        "embedding",
        "embeddings",
        "assistant",
        "realtime",
        "image",
        "moderation",
        "transcription",
        "tts",
        "speech",
        "video",
        "agents",
        "chatkit",
        "codex",
        "codex-sdk",
        "codex-app-server",
        "codex-desktop",
    }
)
# Provider config keys a column takes (or a key that is not imported: never stored).
_USED_CONFIG = frozenset(
    {*_OPENAI_PARAMS, *_ANTHROPIC_PARAMS, *_OLLAMA_PARAMS.values(), "response_format"}
    | {"stop_sequences", "thinking", "apiBaseUrl", "apiKey", "apiKeyEnvar", "apiKeyRequired"}
)
_PROFILE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# A bare path promptfoo reads as a file, e.g. "prompts/a.txt" or "prompt.py:make".
_BARE_PATH = re.compile(r"^[^\s]+\.(txt|json|jsonl|ya?ml|md|j2|csv|py|js|ts|mjs|cjs)(:[\w.]+)?$")
# Prompts promptfoo fetches or generates elsewhere: a program, a prompt management service.
_MANAGED = re.compile(r"^(exec:|langfuse://|portkey://|helicone://)\S+$")
_CODE_FILE = re.compile(r"\.(py|js|ts|mjs|cjs)(:[\w.]+)?$", re.IGNORECASE)
_MEDIA_FILE = re.compile(
    r"\.(pdf|png|jpe?g|gif|webp|bmp|tiff?|ico|avif|heic|svg|mp[34]|wav|ogg|flac|m4a|webm|mov)$",
    re.IGNORECASE,
)
_MAX_VALUES = 1_000_000


def from_promptfoo(
    data: str | bytes,
    *,
    name: str = "",
    base_dir: Path | None = None,
    allow_outside_refs: bool = False,
) -> list[PromptDocument]:
    """One document per prompt of a promptfoo config; :class:`ExchangeError` otherwise.

    Read: ``description``; ``prompts`` as text, a list of text or ``{label, raw}`` /
    ``{id, label}`` objects, or the legacy ``{text: label}`` mapping (a chat-format JSON
    list becomes a template with role markers, its messages' content text or a list of
    text parts; Nunjucks is left as written, promptfoo's ``load`` and ``dump`` filters
    included); ``providers`` whose id is ``openai:chat:M``, ``openai:M``,
    ``openai:responses:M``, ``anthropic:messages:M``, ``ollama:chat:M`` or ``ollama:M``
    (as text, ``{id, label, config}`` or ``{id: {config}}``) become run columns of the
    prompts their ``prompts`` list names (every prompt without one); ``tests`` become test
    cases, each with ``defaultTest``'s vars under its own and ``defaultTest``'s assertions
    before its own (checks PromptStudio does not grade are kept), and a case per text of a
    variable holding a list of texts, as promptfoo runs it (unless ``disableVarExpansion``).
    The document's variables are the first case's vars (``defaultTest``'s without tests).
    Skipped without error, and said in each document's ``notes``: other providers
    (Vertex, Bedrock, HTTP, ...), transforms of answers (``options.transform``, a
    provider's ``transform``) and checks kept but not graded. Skipped silently: provider
    settings PromptStudio has no column setting for, API keys written in the config,
    ``scenarios``, and test keys other than ``description``, ``vars``, ``assert``,
    ``options``, ``threshold`` and ``metadata.expected``.

    Files referenced as ``file://path`` (or a bare ``path.txt``) are read relative to
    ``base_dir``: prompts from ``.txt`` (split at ``---`` lines, as promptfoo does),
    ``.json``/``.yaml`` chat lists or any other text file; tests, ``defaultTest`` and vars
    from ``.yaml``/``.yml``/``.json``, tests also from ``.csv`` and ``.jsonl`` (as
    ``eval --cases`` reads them); a variable's value ``file://...`` as promptfoo gives it
    (a text file trimmed, a YAML file as JSON text). Without ``base_dir`` a reference is
    an error, as are globs, prompt functions and variables from code (Python,
    JavaScript), media variables, ``exec:`` prompts and prompts or tests from services
    (Langfuse, Hugging Face, ...). A reference that resolves outside ``base_dir`` (``../``,
    an absolute path, a symbolic link leading out) is not read: the config is refused
    with :class:`OutsideReferenceError` naming every such reference, unless
    ``allow_outside_refs``. An assertion value ``file://...`` stays that text. A template
    read from a file carries its ``origin``, so a render error names that file's line.

    A document is named after its prompt's label (or a non-file ``id``, or the prompt
    file's name), else ``name``, else the config's description, else "Imported prompt";
    repeated names get " 2", " 3", ... Column ids are new (``c1``..``cN``); a column's
    profile comes from a label our export wrote (``"groq llama-3.1-8b"``), else from the
    provider (``openai``, ``anthropic``, ``ollama``; none for other OpenAI-compatible
    hosts). Round trip: a document without test cases comes back with one case holding
    its variables, and the template comes back in canonical form (one blank line between
    messages, a final newline).
    """
    files = _Files(base_dir, allow_outside_refs)
    config = _load_yaml(checked_text(data), "The config")
    if not isinstance(config, dict):
        raise ExchangeError(
            "A promptfoo config is a YAML mapping (key: value lines) with 'prompts'.", line=1
        )
    prompts = _prompts(config.get("prompts"), files)
    description = _scalar_text(config.get("description"), "'description'")
    notes: list[str] = []
    columns = _columns(config.get("providers"), notes)
    tools = _tools(config.get("providers"))
    cases, default_vars = _cases(config, files, notes)
    if config.get("scenarios"):
        notes.append("The config's scenarios are left out (PromptStudio has no place for them).")
    files.refuse_outside()
    notes += _ungraded_notes(cases)
    if not prompts:
        raise ExchangeError("The config has no prompts: there is nothing to import.")
    variables = cases[0]["vars"] if cases else default_vars
    fallback = name or description or "Imported prompt"
    names = _numbered([label or fallback for label, _template, _origin, _known in prompts])
    return [
        PromptDocument(
            name=doc_name,
            description=description,
            template=template,
            variables=copy.deepcopy(variables),
            columns=_for_prompt(columns, known),
            cases=copy.deepcopy(cases),
            tools=list(tools),
            notes=list(notes),
            origin=origin,
        )
        for doc_name, (_label, template, origin, known) in zip(names, prompts, strict=True)
    ]


def _prompts(
    value: object, files: _Files
) -> list[tuple[str, str, TemplateOrigin | None, set[str]]]:
    """``(label, template, origin, names)`` for every prompt, files read and chat lists
    converted (``origin``: where a template read from a file has its lines there; ``names``:
    what a provider's ``prompts`` list may call it: its label, id or reference)."""
    if value is None:
        return []
    entries: list[Any]
    if isinstance(value, str):
        entries = [value]
    elif isinstance(value, dict):  # legacy promptfoo: {prompt or path: label}
        entries = [{"raw": raw, "label": label} for raw, label in value.items()]
    elif isinstance(value, list):
        entries = value
    else:
        raise ExchangeError("'prompts' must be a list.")
    found: list[tuple[str, str, TemplateOrigin | None, set[str]]] = []
    for number, entry in enumerate(entries, start=1):
        what = f"Prompt {number}"
        label = ""
        if isinstance(entry, str):
            source = entry
        elif isinstance(entry, dict):
            label = _scalar_text(entry.get("label"), f"The label of prompt {number}")
            raw, prompt_id = entry.get("raw"), entry.get("id")
            given = raw if isinstance(raw, str) else prompt_id
            if not isinstance(given, str):
                raise ExchangeError(f"{what} has no 'raw' text or 'id'.")
            source = given
            if not label and isinstance(raw, str) and isinstance(prompt_id, str):
                label = prompt_id if not _is_reference(prompt_id) else ""
        else:
            raise ExchangeError(f"{what} must be text or a mapping.")
        if _MANAGED.match(source):
            raise ExchangeError(f"{what} comes from {source}, outside the config: not imported.")
        known = {name for name in (label, source) if name}
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            known.add(entry["id"])
        if _is_reference(source):
            stem = Path(source.removeprefix("file://")).stem
            for read in files.prompt_texts(source, what):
                template = _template(read.value, what)
                found.append((label or stem, template, read.origin(template), known))
        else:
            found.append((label, _template(source, what), None, known))
    return found


def _template(raw: object, what: str) -> str:
    """Prompt text as a template: a chat list (JSON text or parsed) becomes role markers."""
    messages = raw
    if isinstance(raw, str):
        stripped = raw.strip()
        if not stripped.startswith("["):
            return raw
        try:
            messages = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            return raw  # "[INST] ..." and the like: text that merely starts with a bracket
    if messages == []:
        return ""
    if not isinstance(raw, str) and _content_parts(messages):  # one user turn, in parts
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, list) or not all(
        isinstance(message, dict) and "role" in message for message in messages
    ):
        if isinstance(raw, str):
            return raw
        raise ExchangeError(f"{what} is neither text nor a list of chat messages.")
    return _from_messages(messages, what)


def _from_messages(messages: list[dict[str, Any]], what: str) -> str:
    """The inverse of :func:`chat_prompt`: ``role:`` lines, one blank line between turns."""
    turns: list[str] = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise ExchangeError(
                f"{what}: the message role {role!r} is not one of system, user, assistant."
            )
        content = _content_text(content, what)
        lines = [_literal_if_marker(line) for line in content.split("\n")]
        turns.append(f"{role}:\n" + "\n".join(lines))
    return "\n\n".join(turns) + "\n"


def _content_parts(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(part, dict) and "type" in part and "role" not in part for part in value
    )


def _content_text(content: object, what: str) -> str:
    """A message's content as text: a string, or OpenAI's or Anthropic's list of content
    parts, all text (joined with line breaks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") == "image_url" for part in content
    ):  # text and images: the images as ``![image](URL)`` where they stand
        joined = text_of_parts(content)
        if joined is None:
            raise ExchangeError(f"{what}: only text and image_url content parts can be imported.")
        return joined
    if isinstance(content, list) and content:
        texts = []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in ("text", "input_text") and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                shown = kind if isinstance(kind, str) else type(part).__name__
                raise ExchangeError(
                    f"{what}: a message has a content part of type {shown!r}; only text "
                    "parts can be imported."
                )
        return "\n".join(texts)
    raise ExchangeError(f"{what}: only text message content can be imported.")


def _literal_if_marker(line: str) -> str:
    """A content line that reads like a role marker, written so it cannot open a message."""
    return "{{ " + repr(line) + " }}" if marker_role(line) is not None else line


def _columns(value: object, notes: list[str]) -> list[tuple[ColumnConfig, list[str] | None]]:
    """A column per provider PromptStudio can run, with the provider's ``prompts`` filter
    (None: every prompt); providers left out and their transforms go into ``notes``."""
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    columns: list[tuple[ColumnConfig, list[str] | None]] = []
    skipped: list[str] = []
    for entry in entries:
        for provider_id, label, config, option in _provider_specs(entry):
            column = _column(provider_id, label, config)
            if column is None:
                skipped.append(provider_id)
                continue
            column.id = f"c{len(columns) + 1}"
            wanted = option.get("prompts")
            if isinstance(wanted, str):
                wanted = [wanted]
            columns.append((column, [str(name) for name in wanted] if wanted else None))
            if option.get("transform"):
                notes.append(
                    f"The transform of provider {provider_id} is left out: it is code promptfoo "
                    "runs on each answer, and PromptStudio keeps the answer as the model gave it."
                )
            unused = [key for key in config if key not in _USED_CONFIG]
            if unused:
                notes.append(
                    f"Settings of provider {provider_id} left out (a run column has no place "
                    f"for them): {', '.join(unused)}."
                )
    if skipped:
        notes.append(
            f"Provider{'s' if len(skipped) > 1 else ''} left out (no PromptStudio column can "
            f"run {'them' if len(skipped) > 1 else 'it'}): {', '.join(skipped)}."
        )
    return columns


def _for_prompt(
    columns: list[tuple[ColumnConfig, list[str] | None]], names: set[str]
) -> list[ColumnConfig]:
    """The columns whose provider runs the prompt known by ``names`` (its label, id, ...):
    promptfoo's per-provider ``prompts`` list, where ``name*`` matches by prefix."""

    def runs(wanted: list[str] | None) -> bool:
        if wanted is None:
            return True
        return any(
            name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
            for pattern in wanted
            for name in names
        )

    return [copy.deepcopy(column) for column, wanted in columns if runs(wanted)]


def _tools(value: object) -> tuple[ToolDef, ...]:
    """The tools of the first provider config that has any (OpenAI's or Anthropic's shape;
    our export writes the same tools to every provider)."""
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        for provider_id, _label, config, _entry in _provider_specs(entry):
            if config.get("tools"):
                try:
                    return tools_from_data(config["tools"])
                except ToolsError as exc:
                    raise ExchangeError(f"Provider {provider_id}: tools: {exc.reason}.") from None
    return ()


def _tool_params(config: dict[str, Any]) -> dict[str, Any]:
    """``tool_choice`` and ``parallel_tool_calls`` as run settings, from either vendor's
    shape (``{"type": "function", "function": {"name"}}``, ``{"type": "any"}``, ...)."""
    params: dict[str, Any] = {}
    choice = config.get("tool_choice")
    if isinstance(choice, str):
        params["tool_choice"] = choice
    elif isinstance(choice, dict):
        kind = choice.get("type")
        named = choice.get("name") or (choice.get("function") or {}).get("name")
        words = {"any": "required", "auto": "auto", "none": "none"}
        params["tool_choice"] = named if kind in ("function", "tool") else words.get(str(kind))
        if choice.get("disable_parallel_tool_use"):
            params["parallel_tool_calls"] = "no"
    if isinstance(config.get("parallel_tool_calls"), bool):
        params["parallel_tool_calls"] = "yes" if config["parallel_tool_calls"] else "no"
    return {name: value for name, value in params.items() if value}


def _provider_specs(entry: object) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """``(id, label, config, entry)`` for a provider entry; nothing for a shape we can't read."""
    if isinstance(entry, str):
        return [(entry, "", {}, {})]
    if not isinstance(entry, dict):
        return []
    if isinstance(entry.get("id"), str):
        options = [(entry["id"], entry)]
    else:  # {"openai:chat:gpt-4o": {"config": {...}}}
        options = [
            (str(value.get("id") or key), value)
            for key, value in entry.items()
            if isinstance(value, dict)
        ]
    specs = []
    for provider_id, option in options:
        label = option.get("label")
        config = option.get("config")
        specs.append(
            (
                provider_id,
                label if isinstance(label, str) else "",
                config if isinstance(config, dict) else {},
                option,
            )
        )
    return specs


def _column(provider_id: str, label: str, config: dict[str, Any]) -> ColumnConfig | None:
    """A run column inverting what :func:`_providers` writes; None for other providers."""
    parsed = _vendor_and_model(provider_id)
    if parsed is None:
        return None
    vendor, model = parsed
    params: dict[str, Any]
    api_base = config.get("apiBaseUrl")
    api_base = api_base if isinstance(api_base, str) and api_base else None
    if vendor == "anthropic":
        params = {name: config[name] for name in _ANTHROPIC_PARAMS if name in config}
        if "stop_sequences" in config:
            params["stop"] = config["stop_sequences"]
        thinking = config.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") == "enabled":
            params["thinking_budget"] = thinking.get("budget_tokens")
        profile, base_url = "anthropic", api_base or ANTHROPIC_URL
    elif vendor == "ollama":
        params = {name: config[out] for name, out in _OLLAMA_PARAMS.items() if out in config}
        profile, base_url = "ollama", OLLAMA_URL
    else:
        params = {name: config[name] for name in _OPENAI_PARAMS if name in config}
        params.update(_params_from_response_format(config.get("response_format")))
        custom = api_base is not None and api_base.rstrip("/") != OPENAI_URL
        profile = "" if custom else "openai"
        base_url = api_base if custom and api_base else OPENAI_URL
    params.update(_tool_params(config))
    return ColumnConfig(
        profile=_profile_in_label(label, model) or profile,
        base_url=base_url,
        model=model,
        params=GenerationParams.from_dict(checked_column_params(params, f"Provider {provider_id}")),
    )


def _vendor_and_model(provider_id: str) -> tuple[str, str] | None:
    vendor, _, rest = provider_id.partition(":")
    endpoint, has_model, model = rest.partition(":")
    if not rest:
        return None
    if vendor == "openai":
        if endpoint in ("chat", "responses"):
            return ("openai", model) if has_model else None
        return None if endpoint in _OPENAI_OTHER_ENDPOINTS else ("openai", rest)
    if vendor == "anthropic" and endpoint == "messages" and has_model:
        return "anthropic", model
    if vendor == "ollama":
        if endpoint == "chat":
            return ("ollama", model) if has_model else None
        return None if endpoint in ("completion", "embedding", "embeddings") else ("ollama", rest)
    return None


def _params_from_response_format(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    if value.get("type") == "json_object":
        return {"json_mode": True}
    schema = value.get("json_schema")
    if value.get("type") == "json_schema" and isinstance(schema, dict):
        if set(schema) == {"name", "schema"} and schema["name"] == _SCHEMA_NAME:
            return {"json_schema": schema["schema"]}
        return {"json_schema": schema}
    return {}


def _profile_in_label(label: str, model: str) -> str:
    """The profile id in a label our export wrote (``"<profile> <model>[ #n]"``), or ""."""
    profile, space, rest = label.partition(" ")
    if not space or not _PROFILE_ID.match(profile) or profile == "openai-compatible":
        return ""
    return profile if re.sub(r" #\d+$", "", rest) == model or rest == model else ""


def _cases(
    config: dict[str, Any], files: _Files, notes: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The test cases, and ``defaultTest``'s vars (the variables when there are no tests);
    what is left out goes into ``notes``."""
    default = config.get("defaultTest")
    if isinstance(default, str):
        default = files.data(default, "defaultTest", unread={})
    if default is None:
        default = {}
    if not isinstance(default, dict):
        raise ExchangeError("'defaultTest' must be a mapping.")
    default_vars = _vars(default.get("vars"), files, "defaultTest")
    default_checks = _checks(default.get("assert"), "defaultTest")
    notes += _left_out_options(default.get("options"), "defaultTest (every test)")
    if _option(default, "provider"):
        notes.append(
            "defaultTest's options.provider (the model grading llm-rubric checks) is left "
            "out: choose the judge in the Evaluate tab, or with eval --judge."
        )
    expand = not _option(default, "disableVarExpansion")
    cases = [
        expanded
        for number, test in enumerate(_tests(config.get("tests"), files), start=1)
        for expanded in _expanded(
            _case(test, f"Test {number}", default_vars, default_checks, files, notes, default),
            expand and not _option(test, "disableVarExpansion"),
            files,
            f"test {number}",
        )
    ]
    return cases, default_vars


def _option(test: object, name: str) -> bool:
    options = test.get("options") if isinstance(test, dict) else None
    return isinstance(options, dict) and bool(options.get(name))


def _expanded(case: dict[str, Any], expand: bool, files: _Files, what: str) -> list[dict[str, Any]]:
    """The case once per combination of its list variables, as promptfoo runs a test: a
    variable holding a list of texts stands for each of them (unless ``disableVarExpansion``);
    a ``file://`` text among them is read then."""
    combinations: list[dict[str, Any]] = [{}]
    for name, value in case["vars"].items():
        spread = expand and isinstance(value, list) and bool(value) and isinstance(value[0], str)
        values = value if spread else [value]
        if spread:
            values = [
                files.var_value(item, f"The variable '{name}' of {what}")
                if isinstance(item, str) and item.startswith("file://")
                else item
                for item in values
            ]
        combinations = [{**done, name: item} for done in combinations for item in values]
    return [{**copy.deepcopy(case), "vars": combination} for combination in combinations]


def _tests(value: object, files: _Files) -> list[object]:
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    tests: list[object] = []
    for entry in entries:
        if isinstance(entry, str):
            loaded = files.data(entry, "tests", unread=[])
            tests.extend(loaded if isinstance(loaded, list) else [loaded])
        else:
            tests.append(entry)
    return tests


def _case(
    test: object,
    what: str,
    default_vars: dict[str, Any],
    default_checks: list[dict[str, Any]],
    files: _Files,
    notes: list[str],
    default: dict[str, Any],
) -> dict[str, Any]:
    if not isinstance(test, dict):
        raise ExchangeError(f"{what} must be a mapping (vars, assert, ...).")
    notes += _left_out_options(test.get("options"), what.lower())
    if test.get("providers"):
        notes.append(
            f"{what} runs only on some providers in promptfoo ({_listed(test['providers'])}); "
            "here every column runs it."
        )
    case: dict[str, Any] = {"vars": {**default_vars, **_vars(test.get("vars"), files, what)}}
    description = _scalar_text(test.get("description"), f"The description of {what.lower()}")
    if description:
        case["description"] = description
    metadata = test.get("metadata")
    own = _checks(test.get("assert"), what)
    if isinstance(test.get("expected"), str):  # a case read from a CSV or JSON Lines file
        case["expected"] = test["expected"]
    elif isinstance(metadata, dict) and isinstance(metadata.get("expected"), str):
        case["expected"] = expected = metadata["expected"]
        if own == [{"type": "equals", "value": expected}] and not default_checks:
            own = []  # the check our export writes for an expected answer: implied here
    checks = [*default_checks, *own]
    if checks:
        case["assert"] = checks
    threshold = test.get("threshold", default.get("threshold"))
    if threshold is not None:
        case["threshold"] = _threshold(threshold, what)
    return case


def _listed(value: object) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(str(item) for item in items)


def _left_out_options(options: object, whose: str) -> list[str]:
    """Notes on a test's ``options`` that change what is graded and have no place here."""
    if not isinstance(options, dict):
        return []
    return [
        f"The options.{key} of {whose} is left out: it is code promptfoo runs on each answer "
        "before grading it, and PromptStudio grades the answer as the model gave it."
        for key in ("transform", "postprocess")
        if options.get(key)
    ]


def _ungraded_notes(cases: list[dict[str, Any]]) -> list[str]:
    """Notes naming the checks kept but not graded here (JavaScript among them), and the
    Python checks that run only once the user turns code checks on, with their tests."""
    found: dict[str, list[int]] = {}
    code: dict[str, list[int]] = {}
    for number, case in enumerate(cases, start=1):
        for check in case.get("assert") or ():
            base = str(check.get("type", "")).removeprefix("not-")
            place = code if base == "python" else found
            if base in ("javascript", "python") or ungraded_reason(check) is not None:
                tests = place.setdefault(str(check["type"]), [])
                if number not in tests:
                    tests.append(number)
    notes = []
    if found:
        notes.append(
            f"Checks kept but not graded in PromptStudio (promptfoo grades them): {_where(found)}."
        )
    if code:
        notes.append(
            "Python checks run only once you turn on 'Run code checks' in Settings (the CLI: "
            f"--allow-code-checks); an import never turns it on: {_where(code)}."
        )
    return notes


def _where(found: dict[str, list[int]]) -> str:
    return "; ".join(
        f"'{kind}' in test{'s' if len(tests) > 1 else ''} {', '.join(map(str, tests))}"
        for kind, tests in found.items()
    )


def _threshold(value: object, what: str) -> float:
    """A test's ``threshold``: the weighted score of its checks it passes at."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ExchangeError(f"The threshold of {what.lower()} must be a number, not {value!r}.")
    return float(value)


def _vars(value: object, files: _Files, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):  # promptfoo reads a mapping from this file
        value = files.data(value, f"The vars of {what.lower()}", unread={})
    if not isinstance(value, dict):
        raise ExchangeError(f"The vars of {what.lower()} must be a mapping of names to values.")
    return {
        name: files.var_value(item, f"The variable '{name}' of {what.lower()}")
        if isinstance(item, str) and item.startswith("file://")
        else item
        for name, item in value.items()
    }


def _checks(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(check, dict) for check in value):
        raise ExchangeError(f"The assert of {what.lower()} must be a list of assertions.")
    return [check_from_promptfoo(check) for check in value]


def _scalar_text(value: object, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ExchangeError(f"{what} must be text.")


def _numbered(names: list[str]) -> list[str]:
    """``names`` with repeats numbered: ``["A", "A", "A"]`` → ``["A", "A 2", "A 3"]``."""
    seen: dict[str, int] = {}
    numbered = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        numbered.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return numbered


def _is_reference(text: str) -> bool:
    return text.startswith("file://") or bool(_BARE_PATH.match(text))


# A message's content in a JSON or YAML chat list: its key, and a YAML block scalar's "|".
_CONTENT_KEY = re.compile(r"""(?:^|[{,\s])["']?content["']?\s*:\s*([|>][-+0-9]*\s*$)?""", re.M)


@dataclass(frozen=True, slots=True)
class _PromptText:
    """A prompt read from a file: the text or parsed chat list, and where it lies there."""

    value: object
    file: str
    first_line: int
    text: str  # the file's text, to find each message in ("" when not needed)

    def origin(self, template: str) -> TemplateOrigin:
        count = template.count("\n") + 1
        if isinstance(self.value, str) and template == self.value:
            lines = range(self.first_line, self.first_line + count)
            return TemplateOrigin(self.file, tuple(lines))
        # A chat list: each template line lies on its message's content line (a JSON string
        # is one line; a YAML block scalar starts on the next).
        starts = [
            (self.text.count("\n", 0, found.start()) + 1 + (1 if found[1] else 0), bool(found[1]))
            for found in _CONTENT_KEY.finditer(self.text)
        ]
        lines_of = []
        for message, offset in _template_lines(template):
            line, block = starts[message] if message < len(starts) else (1, False)
            lines_of.append(line + (offset if block and offset is not None else 0))
        return TemplateOrigin(self.file, tuple(lines_of[:count]), columns=False)


def _template_lines(template: str) -> list[tuple[int, int | None]]:
    """For each line of a template :func:`_from_messages` wrote: its message's index, and
    the line within that message's content (None for the role line and blank lines)."""
    found: list[tuple[int, int | None]] = []
    message, offset = -1, None
    for line in template.split("\n"):
        if marker_role(line) is not None:
            message, offset = message + 1, None
            found.append((max(message, 0), None))
        else:
            offset = 0 if offset is None else offset + 1
            found.append((max(message, 0), offset))
    return found


class _Files:
    """Files a config refers to, read relative to the config's folder when it is known.

    Only files inside that folder are read (after resolving ``..`` and symbolic links),
    unless ``allow_outside``; a reference leading out is noted, stands for nothing (no
    prompt, no tests, no vars) and :meth:`refuse_outside` then refuses the whole config.
    """

    def __init__(self, base_dir: Path | None, allow_outside: bool = False) -> None:
        self.base_dir = base_dir
        self.allow_outside = allow_outside
        self.outside: list[str] = []

    def refuse_outside(self) -> None:
        """:class:`OutsideReferenceError` naming every reference that led out, if any."""
        if not self.outside:
            return
        references = tuple(dict.fromkeys(self.outside))
        raise OutsideReferenceError(
            f"The config refers to {_files(len(references))} outside its folder "
            f"({self.base_dir}), which {'is' if len(references) == 1 else 'are'} not read: "
            f"{', '.join(references)}. Copy {'it' if len(references) == 1 else 'them'} into "
            "the config's folder, or import it with 'promptstudio import --allow-outside-refs' "
            "if you trust it.",
            references,
        )

    def prompt_texts(self, reference: str, what: str) -> list[_PromptText]:
        """The prompts in a file: text, or a parsed chat list (``.json``, ``.yaml``)."""
        read = self._read(reference, what)
        if read is None:
            return []
        path, text = read
        name = reference.removeprefix("file://")
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return [_PromptText(_load_yaml(text, what, reference=reference), name, 1, text)]
        if suffix == ".txt":  # promptfoo splits at "---" lines and trims each prompt
            prompts: list[_PromptText] = []
            lines: list[str] = []
            start = 1
            all_lines = text.replace("\r\n", "\n").split("\n")
            for number, line in enumerate([*all_lines, "---"], start=1):
                if line.strip() == "---":
                    if "\n".join(lines).strip():
                        first = start + next(i for i, kept in enumerate(lines) if kept.strip())
                        prompts.append(_PromptText("\n".join(lines).strip(), name, first, ""))
                    lines, start = [], number + 1
                else:
                    lines.append(line)
            return prompts
        if suffix in (".csv", ".jsonl"):
            raise ExchangeError(f"{what}: {suffix} prompt files ({reference}) are not supported.")
        # .json is parsed as a chat list by _template; .md, .j2, ...: as is
        return [_PromptText(text, name, 1, text)]

    def var_value(self, reference: str, what: str) -> object:
        """A ``file://`` variable's value as promptfoo gives it: a text file's content
        trimmed, a YAML file's data as compact JSON text (the reference itself when the
        file lies outside the config's folder)."""
        if _MEDIA_FILE.search(reference):
            raise ExchangeError(
                f"{what} is read from {reference}, which promptfoo sends as a PDF, image, audio "
                "or video: only text variables can be imported."
            )
        read = self._read(reference, what)
        if read is None:
            return reference
        path, text = read
        if path.suffix.lower() in (".yaml", ".yml"):
            data = _load_yaml(text, what, reference=reference)
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return text.strip()

    def data(self, reference: str, what: str, *, unread: object) -> object:
        """The parsed content of a ``.yaml``, ``.yml`` or ``.json`` file (``unread`` when it
        lies outside the config's folder)."""
        read = self._read(reference, what)
        if read is None:
            return unread
        path, text = read
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return _load_yaml(text, what, reference=reference)
        if suffix == ".json":
            return self._json(text, what, reference)
        if suffix in (".jsonl", ".ndjson"):  # a promptfoo test per line
            return [self._json(line, what, reference, number)
                    for number, line in enumerate(text.splitlines(), start=1)
                    if line.strip()]  # fmt: skip
        if suffix == ".csv":  # promptfoo's __expected columns: read as `eval --cases` reads it
            from promptstudio.exchange.case_files import cases_from_csv

            try:
                return cases_from_csv(text)
            except ExchangeError as exc:
                raise exc.in_file(reference.removeprefix("file://")) from None
        raise ExchangeError(
            f"{what}: {reference} cannot be imported; only YAML, JSON, CSV and JSON Lines "
            "files are read."
        )

    @staticmethod
    def _json(text: str, what: str, reference: str, line: int = 0) -> object:
        """JSON text from a file; ``line``: the file's line it is (JSON Lines)."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExchangeError(
                f"{what}: {reference} is not valid JSON (line {line or exc.lineno}: {exc.msg})."
            ) from None
        except RecursionError:
            raise ExchangeError(f"{what}: {reference} is nested too deeply.") from None

    def _read(self, reference: str, what: str) -> tuple[Path, str] | None:
        target = reference.removeprefix("file://")
        if "://" in target:  # huggingface://, https://, ...
            raise ExchangeError(
                f"{what} comes from {reference}; only files next to the config are read."
            )
        if _CODE_FILE.search(target):
            raise ExchangeError(
                f"{what} is produced by code ({reference}); prompt and test functions "
                "cannot be imported."
            )
        if any(ch in target for ch in "*?"):
            raise ExchangeError(f"{what} names files by a pattern ({reference}); list them.")
        if self.base_dir is None:
            raise ExchangeError(
                f"{what} is read from {reference}, which cannot be reached from the config's "
                "text alone: import the config file itself."
            )
        path = self._inside(target)
        if path is None:
            self.outside.append(reference)
            return None
        try:
            with path.open("rb") as file:
                data = file.read(MAX_IMPORT_BYTES + 1)
        except FileNotFoundError:
            raise ExchangeError(f"{what}: {reference} does not exist ({path}).") from None
        except OSError as exc:
            raise ExchangeError(
                f"{what}: {reference} cannot be read ({exc.strerror or exc})."
            ) from None
        try:
            return path, checked_text(data)
        except ExchangeError as exc:
            raise ExchangeError(f"{what}: {reference}: {exc}") from None

    def _inside(self, target: str) -> Path | None:
        """The file ``target`` names, resolved; None when it lies outside the config's folder.

        Resolving first (``..``, symbolic links anywhere on the way) and then checking
        containment means no spelling of the path and no link can lead out.
        """
        assert self.base_dir is not None
        path = self.base_dir / target
        if self.allow_outside:
            return path
        try:
            base = self.base_dir.resolve()
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop: treat it as leading out
            return None
        return resolved if resolved.is_relative_to(base) else None


def _files(count: int) -> str:
    return "a file" if count == 1 else f"{count} files"


def _load_yaml(text: str, what: str, *, reference: str = "") -> Any:
    """Safe YAML as JSON-ready data; a syntax error carries the line when known.

    For a file the config refers to, the line goes into the message instead (``line``
    always means a line of the config). Aliases are allowed (promptfoo configs share
    assertions with ``&name``/``*name``), but a document expanding past a million values
    ("billion laughs") is refused.
    """
    subject = f"{what}: {reference}" if reference else what
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = f"is not valid YAML: {exc.problem or exc.context}."
        if reference and line is not None:
            raise ExchangeError(f"{subject}, line {line} {problem}") from None
        raise ExchangeError(f"{subject} {problem}", line=None if reference else line) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ExchangeError(f"{subject} is not valid YAML: {exc}.") from None
    except (ValueError, OverflowError) as exc:  # PyYAML's own: "\U0FFFFFFF", no character
        raise ExchangeError(f"{subject} is not valid YAML: {BAD_ESCAPE} ({exc}).") from None
    budget = _MAX_VALUES

    def plain(value: object) -> Any:
        nonlocal budget
        budget -= 1
        if budget < 0:
            raise ExchangeError(
                f"{subject} expands to over {_MAX_VALUES:,} values (through YAML aliases); "
                "it is not imported."
            )
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, datetime.date):  # YAML dates and timestamps
            return value.isoformat()
        return value

    try:
        return plain(data)
    except RecursionError:
        raise ExchangeError(f"{subject} is nested too deeply.") from None
