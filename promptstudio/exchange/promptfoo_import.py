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
from pathlib import Path
from typing import Any

import yaml

from promptstudio.chat import ROLES
from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    OPENAI_URL,
    PromptDocument,
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
)
from promptstudio.exchange.reading import MAX_IMPORT_BYTES, checked_text
from promptstudio.providers import GenerationParams
from promptstudio.runs.columns import ColumnConfig
from promptstudio.templating.roles import marker_role

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
_PROFILE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# A bare path promptfoo reads as a file, e.g. "prompts/a.txt" or "prompt.py:make".
_BARE_PATH = re.compile(r"^[^\s]+\.(txt|json|jsonl|ya?ml|md|j2|csv|py|js|ts|mjs|cjs)(:[\w.]+)?$")
# Prompts promptfoo fetches or generates elsewhere: a program, a prompt management service.
_MANAGED = re.compile(r"^(exec:|langfuse://|portkey://|helicone://)\S+$")
_CODE_FILE = re.compile(r"\.(py|js|ts|mjs|cjs)(:[\w.]+)?$", re.IGNORECASE)
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
    list becomes a template with role markers; Nunjucks is left as written);
    ``providers`` whose id is ``openai:chat:M``, ``openai:M``, ``openai:responses:M``,
    ``anthropic:messages:M``, ``ollama:chat:M`` or ``ollama:M`` (as text, ``{id, label,
    config}`` or ``{id: {config}}``) become run columns; ``tests`` become test cases, each
    with ``defaultTest``'s vars under its own and ``defaultTest``'s assertions before its
    own. The document's variables are the first case's vars (``defaultTest``'s without
    tests). Everything else is skipped without error: other providers (Vertex, Bedrock,
    HTTP, ...), provider settings PromptStudio has no column setting for, API keys written
    in the config, ``scenarios``, and test keys other than ``description``, ``vars``,
    ``assert`` and ``metadata.expected``.

    Files referenced as ``file://path`` (or a bare ``path.txt``) are read relative to
    ``base_dir``: prompts from ``.txt`` (split at ``---`` lines, as promptfoo does),
    ``.json``/``.yaml`` chat lists or any other text file; tests, ``defaultTest`` and vars
    from ``.yaml``/``.yml``/``.json``. Without ``base_dir`` a reference is an error, as are
    globs, CSV files, prompt functions (Python, JavaScript), ``exec:`` prompts and prompts
    or tests from services (Langfuse, Hugging Face, ...). A reference that resolves outside
    ``base_dir`` (``../``, an absolute path, a symbolic link leading out) is not read: the
    config is refused with :class:`OutsideReferenceError` naming every such reference,
    unless ``allow_outside_refs``. Other strings are never read as files: a var value or an
    assertion value ``file://...`` stays that text.

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
    columns = _columns(config.get("providers"))
    cases, default_vars = _cases(config, files)
    files.refuse_outside()
    if not prompts:
        raise ExchangeError("The config has no prompts: there is nothing to import.")
    variables = cases[0]["vars"] if cases else default_vars
    fallback = name or description or "Imported prompt"
    names = _numbered([label or fallback for label, _template in prompts])
    return [
        PromptDocument(
            name=doc_name,
            description=description,
            template=template,
            variables=copy.deepcopy(variables),
            columns=copy.deepcopy(columns),
            cases=copy.deepcopy(cases),
        )
        for doc_name, (_label, template) in zip(names, prompts, strict=True)
    ]


def _prompts(value: object, files: _Files) -> list[tuple[str, str]]:
    """``(label, template)`` for every prompt, files read and chat lists converted."""
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
    found: list[tuple[str, str]] = []
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
        if _is_reference(source):
            stem = Path(source.removeprefix("file://")).stem
            for text in files.prompt_texts(source, what):
                found.append((label or stem, _template(text, what)))
        else:
            found.append((label, _template(source, what)))
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
        if isinstance(content, list):  # content parts: text and image_url
            content = text_of_parts(content)
        if not isinstance(content, str):
            raise ExchangeError(f"{what}: only text and image_url message content can be imported.")
        lines = [_literal_if_marker(line) for line in content.split("\n")]
        turns.append(f"{role}:\n" + "\n".join(lines))
    return "\n\n".join(turns) + "\n"


def _literal_if_marker(line: str) -> str:
    """A content line that reads like a role marker, written so it cannot open a message."""
    return "{{ " + repr(line) + " }}" if marker_role(line) is not None else line


def _columns(value: object) -> list[ColumnConfig]:
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    columns: list[ColumnConfig] = []
    for entry in entries:
        for provider_id, label, config in _provider_specs(entry):
            column = _column(provider_id, label, config)
            if column is not None:
                column.id = f"c{len(columns) + 1}"
                columns.append(column)
    return columns


def _provider_specs(entry: object) -> list[tuple[str, str, dict[str, Any]]]:
    """``(id, label, config)`` for a provider entry; nothing for a shape we can't read."""
    if isinstance(entry, str):
        return [(entry, "", {})]
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


def _cases(config: dict[str, Any], files: _Files) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The test cases, and ``defaultTest``'s vars (the variables when there are no tests)."""
    default = config.get("defaultTest")
    if isinstance(default, str):
        default = files.data(default, "defaultTest", unread={})
    if default is None:
        default = {}
    if not isinstance(default, dict):
        raise ExchangeError("'defaultTest' must be a mapping.")
    default_vars = _vars(default.get("vars"), files, "defaultTest")
    default_checks = _checks(default.get("assert"), "defaultTest")
    cases = [
        _case(test, f"Test {number}", default_vars, default_checks, files)
        for number, test in enumerate(_tests(config.get("tests"), files), start=1)
    ]
    return cases, default_vars


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
) -> dict[str, Any]:
    if not isinstance(test, dict):
        raise ExchangeError(f"{what} must be a mapping (vars, assert, ...).")
    case: dict[str, Any] = {"vars": {**default_vars, **_vars(test.get("vars"), files, what)}}
    description = _scalar_text(test.get("description"), f"The description of {what.lower()}")
    if description:
        case["description"] = description
    metadata = test.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("expected"), str):
        case["expected"] = metadata["expected"]
    checks = [*default_checks, *_checks(test.get("assert"), what)]
    if checks:
        case["assert"] = checks
    return case


def _vars(value: object, files: _Files, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):  # promptfoo reads a mapping from this file
        value = files.data(value, f"The vars of {what.lower()}", unread={})
    if not isinstance(value, dict):
        raise ExchangeError(f"The vars of {what.lower()} must be a mapping of names to values.")
    return dict(value)


def _checks(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(check, dict) for check in value):
        raise ExchangeError(f"The assert of {what.lower()} must be a list of assertions.")
    return list(value)


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

    def prompt_texts(self, reference: str, what: str) -> list[object]:
        """The prompts in a file: text, or a parsed chat list (``.json``, ``.yaml``)."""
        read = self._read(reference, what)
        if read is None:
            return []
        path, text = read
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return [_load_yaml(text, what, reference=reference)]
        if suffix == ".txt":  # promptfoo splits at "---" lines and trims each prompt
            prompts: list[object] = []
            lines: list[str] = []
            for line in [*text.replace("\r\n", "\n").split("\n"), "---"]:
                if line.strip() == "---":
                    if "\n".join(lines).strip():
                        prompts.append("\n".join(lines).strip())
                    lines = []
                else:
                    lines.append(line)
            return prompts
        if suffix in (".csv", ".jsonl"):
            raise ExchangeError(f"{what}: {suffix} prompt files ({reference}) are not supported.")
        return [text]  # .json is parsed as a chat list by _template; .md, .j2, ...: as is

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
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ExchangeError(
                    f"{what}: {reference} is not valid JSON (line {exc.lineno}: {exc.msg})."
                ) from None
            except RecursionError:
                raise ExchangeError(f"{what}: {reference} is nested too deeply.") from None
        raise ExchangeError(
            f"{what}: {reference} cannot be imported; only YAML and JSON files are read "
            "(save CSV test data as YAML)."
        )

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
