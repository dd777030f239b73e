"""The exchange unit: one prompt with everything an export needs, and nothing Qt."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from promptstudio.credentials.env import env_var_for
from promptstudio.providers import GenerationParams
from promptstudio.runs.columns import ColumnConfig

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
    ``versions`` is optional history (JSON-ready dicts), carried only by the JSON format.
    ``notes`` says, one line each, what an import read but could not keep (a setting with
    no place in a run column, a Prompty ``tools`` list, ...); exports ignore it.
    """

    name: str
    description: str = ""
    folder: str = ""
    tags: list[str] = field(default_factory=list)
    template: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    columns: list[ColumnConfig] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list, compare=False)
    # Where the template's lines were read, when not line for line from the imported file.
    origin: TemplateOrigin | None = field(default=None, compare=False, repr=False)
    # The kind ("anthropic", "openai", ...) of each provider profile the columns name, where
    # the profiles are known (set_profile_kinds): a custom profile's kind picks the API.
    profile_kinds: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # The prompt's checks for every case (its evaluation settings), where known: the
    # promptfoo export writes them as defaultTest's.
    every_case_checks: list[dict[str, Any]] = field(default_factory=list, compare=False)
    # The id of the column whose model grades llm-rubric checks (the judge), where known.
    judge_column: str | None = field(default=None, compare=False)

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


def columns_to_dicts(columns: list[ColumnConfig]) -> list[dict[str, Any]]:
    """The columns as a version stores them (and the JSON formats write them)."""
    return [column.to_dict() for column in columns]


def unknown_params(data: Mapping[str, Any]) -> list[str]:
    """The names in a column's ``params`` that are not run settings (dropped on import)."""
    params = data.get("params")
    return [name for name in params if name not in PARAM_FIELDS] if isinstance(params, dict) else []


def set_profile_kinds(docs: Iterable[PromptDocument], profiles: Iterable[ProviderProfile]) -> None:
    """Tell each document the kind of every provider profile its columns name."""
    kinds = {profile.id: profile.kind for profile in profiles}
    for doc in docs:
        named = {column.profile for column in doc.columns}
        doc.profile_kinds = {id_: kind for id_, kind in kinds.items() if id_ in named}


def provider_kind(column: ColumnConfig, kinds: Mapping[str, str] | None = None) -> str:
    """``"openai"``, ``"anthropic"``, ``"ollama"`` or ``"openai-compatible"`` for a column
    (``kinds``: the kind of each profile, :attr:`PromptDocument.profile_kinds`)."""
    base_url = column.base_url
    try:
        parts = urlsplit(base_url if "://" in base_url else "https://" + base_url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:  # not a URL at all
        host, port = "", None
    profile_kind = (kinds or {}).get(column.profile)
    if column.profile == "anthropic" or profile_kind == "anthropic" or host == "api.anthropic.com":
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


def column_params(column: ColumnConfig) -> dict[str, Any]:
    """The column's generation settings that are set, by name (JSON-ready)."""
    return column.params.to_dict()
