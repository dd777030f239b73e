"""The exchange unit: one prompt with everything an export needs, and nothing Qt."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from promptstudio.chat import Image
from promptstudio.credentials.env import env_var_for
from promptstudio.providers import GenerationParams, ProviderProfile
from promptstudio.runs.columns import ColumnConfig
from promptstudio.tools import ToolDef, ToolsError, tools_from_data

if TYPE_CHECKING:
    from promptstudio.providers import ProviderProfile
    from promptstudio.storage.rows import PromptRow, VersionRow

OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com"


@dataclass(slots=True)
class PromptDocument:
    """A prompt as exported and imported.

    ``columns`` are the run columns; a version stores them in ``settings["columns"]`` as
    :meth:`ColumnConfig.to_dict` (see :func:`column_from_dict`, :func:`columns_to_dicts`).
    ``cases`` are the prompt's saved variable sets (test cases), promptfoo-style:
    ``{"vars": {...}}`` plus optional ``"description"``, ``"expected"`` and ``"assert"``
    (a list of promptfoo assertions, kept as they are).
    ``tools`` are the functions the model may call (stored beside the columns).
    ``versions`` is optional history (JSON-ready dicts), carried only by the JSON format.
    ``images`` are the images its messages send (see the field).
    ``notes`` says, one line each, what an import read but could not keep (a setting with
    no place in a run column, a Prompty ``tools`` list, ...); exports ignore it.
    ``profiles`` are the provider profiles its columns may name, set by whoever exports
    (so a column on a custom Anthropic profile is exported as Anthropic, with the key
    variable the profile names); they are never written into a file.
    """

    name: str
    description: str = ""
    folder: str = ""
    tags: list[str] = field(default_factory=list)
    template: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    columns: list[ColumnConfig] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    tools: list[ToolDef] = field(default_factory=list)
    versions: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list, compare=False)
    profiles: list[ProviderProfile] = field(default_factory=list, compare=False)
    # Where the template's lines were read, when not line for line from the imported file.
    origin: TemplateOrigin | None = field(default=None, compare=False, repr=False)
    # The prompt's checks for every case (its evaluation settings), where known: the
    # promptfoo export writes them as defaultTest's.
    every_case_checks: list[dict[str, Any]] = field(default_factory=list, compare=False)
    # The id of the column whose model grades llm-rubric checks (the judge), where known.
    judge_column: str | None = field(default=None, compare=False)
    #: The images the prompt sends, bytes included (PromptStudio JSON carries them; an
    #: import stores them with the version by hash).
    images: list[Image] = field(default_factory=list)

    @classmethod
    def from_library(cls, prompt: PromptRow, version: VersionRow) -> PromptDocument:
        """The document for ``version`` of ``prompt`` (its message becomes the description)."""
        columns = version.settings.get("columns") or []
        return cls(
            name=prompt.name,
            description=version.message,
            folder=prompt.folder,
            tags=list(prompt.tags),
            template=version.template,
            variables=dict(version.variables),
            columns=columns_from_dicts(columns),
            tools=stored_tools(version.settings),
        )


@dataclass(frozen=True, slots=True)
class TemplateOrigin:
    """The file a template was read from, and the line of it holding each template line.

    ``lines[n - 1]`` is the file's line for template line n. ``columns`` is False when the
    text was taken out of quotes (a JSON string), so a column of the template is not one of
    the file.
    """

    file: str
    lines: tuple[int, ...]
    columns: bool = True

    def locate(self, line: int, column: int) -> str | None:
        """``prompt.json:3`` or ``prompt.txt:4:7`` for a template position; None if unknown."""
        if not 1 <= line <= len(self.lines):
            return None
        where = f"{self.file}:{self.lines[line - 1]}"
        return f"{where}:{column}" if self.columns else where


def template_location(doc: PromptDocument, file: str, line: int, column: int) -> str:
    """Where a template position is, for messages: the file it was read from, else ``file``."""
    found = doc.origin.locate(line, column) if doc.origin is not None else None
    return found or f"{file}:{line}:{column}"


#: The settings a run column can hold (``GenerationParams``' fields).
PARAM_FIELDS = frozenset(f.name for f in fields(GenerationParams))


def column_from_dict(data: Mapping[str, Any]) -> ColumnConfig:
    """A stored or exported column (:meth:`ColumnConfig.to_dict`) as a :class:`ColumnConfig`.

    Its settings are taken as they are (check them first: ``json_format.checked_columns``);
    names that are not run settings are left out (:func:`unknown_params` names them). A
    column that names no base URL keeps none (its profile's or OpenAI's), where
    ``ColumnConfig.from_dict`` would assume a local Ollama server.
    """
    column = ColumnConfig.from_dict(dict(data))
    if not data.get("base_url"):
        column.base_url = ""
    return column


def columns_from_dicts(columns: list[dict[str, Any]]) -> list[ColumnConfig]:
    """Stored columns (``settings["columns"]``) as run columns; non-objects are skipped."""
    return [column_from_dict(column) for column in columns if isinstance(column, dict)]


def stored_tools(settings: Mapping[str, Any]) -> list[ToolDef]:
    """The tools a version's ``settings`` hold (none when they are unusable)."""
    try:
        return list(tools_from_data(settings.get("tools") or []))
    except ToolsError:
        return []


def version_settings(columns: list[ColumnConfig], tools: Sequence[ToolDef]) -> dict[str, Any]:
    """What a version stores of run settings: the columns, and the tools when there are
    any (as ``session.Content.settings`` does)."""
    settings: dict[str, Any] = {"columns": columns_to_dicts(columns)}
    if tools:
        settings["tools"] = [tool.to_dict() for tool in tools]
    return settings


def columns_to_dicts(columns: list[ColumnConfig]) -> list[dict[str, Any]]:
    """The columns as a version stores them (and the JSON formats write them)."""
    return [column.to_dict() for column in columns]


def unknown_params(data: Mapping[str, Any]) -> list[str]:
    """The names in a column's ``params`` that are not run settings (dropped on import)."""
    params = data.get("params")
    return [name for name in params if name not in PARAM_FIELDS] if isinstance(params, dict) else []


def column_profile(
    column: ColumnConfig, profiles: Sequence[ProviderProfile]
) -> ProviderProfile | None:
    """The profile the column names, when it is among ``profiles``."""
    if not column.profile:
        return None
    return next((p for p in profiles if p.id == column.profile), None)


def provider_kind(column: ColumnConfig, profiles: Sequence[ProviderProfile] = ()) -> str:
    """``"openai"``, ``"anthropic"``, ``"ollama"`` or ``"openai-compatible"`` for a column
    (a column on a profile of kind anthropic or openai is of that kind, wherever it points)."""
    profile = column_profile(column, profiles)
    if profile is not None and profile.kind in ("anthropic", "openai"):
        return profile.kind
    base_url = column.base_url
    try:
        parts = urlsplit(base_url if "://" in base_url else "https://" + base_url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:  # not a URL at all
        host, port = "", None
    if column.profile == "anthropic" or host == "api.anthropic.com":
        return "anthropic"
    if host == "api.openai.com" or (not base_url and column.profile in ("", "openai")):
        return "openai"
    if host in ("localhost", "127.0.0.1", "::1") and port == 11434:
        return "ollama"
    return "openai-compatible"


def key_env_var(base_url: str) -> str | None:
    """The environment variable conventionally holding the key for ``base_url``, if any."""
    try:
        return env_var_for(base_url)
    except ValueError:  # not a URL at all
        return None


#: The hosts of an Azure OpenAI (or Foundry) resource: each serves the OpenAI-compatible v1
#: API under ``/openai/v1`` (an OpenAI client with the resource's key, no api-version).
AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
#: The key variable Azure's and Prompty's own samples name for such a resource.
AZURE_KEY_VAR = "AZURE_OPENAI_API_KEY"


def azure_resource(base_url: str) -> tuple[str, str] | None:
    """``(https://HOST, path)`` when ``base_url`` is an Azure OpenAI resource's; else None."""
    found = re.match(r"^(https://[^/?#]+)(/[^?#]*)?$", base_url.strip(), re.IGNORECASE)
    if found is None or not found.group(1).lower().endswith(AZURE_HOSTS):
        return None
    return found.group(1), (found.group(2) or "").rstrip("/")


def column_key_env(column: ColumnConfig, profiles: Sequence[ProviderProfile] = ()) -> str | None:
    """The variable an exported file names for the column's key: the one its profile names,
    else the hosted provider's conventional one for its exact host (Azure's for an Azure
    OpenAI resource); None for a local or unknown server. Exports only name it: PromptStudio
    itself never sends an environment variable to an Azure resource on its own."""
    profile = column_profile(column, profiles)
    if profile is not None and profile.key_env:
        return profile.key_env
    base_url = column.base_url or (profile.base_url if profile else "")
    return key_env_var(base_url) or (AZURE_KEY_VAR if azure_resource(base_url) else None)


def column_params(column: ColumnConfig) -> dict[str, Any]:
    """The column's generation settings that are set, by name (JSON-ready)."""
    return column.params.to_dict()
