"""Every export format by name, and imports chosen from a file's name (or its first bytes).

The GUI's dialogs and the CLI both go through this table, so a format added here shows up
in both. Reading a file refuses enormous, binary and non-UTF-8 input before any parsing,
and an error names the file (and the line, when known).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from promptstudio.exchange.code_snippets import to_curl, to_python_anthropic, to_python_openai
from promptstudio.exchange.document import PromptDocument
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.json_format import from_json, to_json
from promptstudio.exchange.promptfoo_format import to_promptfoo
from promptstudio.exchange.promptfoo_import import from_promptfoo
from promptstudio.exchange.prompty_format import from_prompty, to_prompty
from promptstudio.exchange.reading import MAX_IMPORT_BYTES, checked_text, too_big_message
from promptstudio.exchange.text_formats import (
    TEMPLATE_SUFFIXES,
    from_markdown,
    from_text,
    to_markdown,
)

Values = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One way out: ``render(doc, values, column)`` gives the file's text."""

    key: str
    label: str
    suffix: str
    render: Callable[[PromptDocument, Values, int], str]
    per_column: bool = False
    """Code for one run column (the others are ignored)."""
    whole_library: bool = True
    """Fit for "one file per prompt" library exports."""

    @property
    def file_filter(self) -> str:
        """A Qt-style file dialog filter: ``Prompty (*.prompty)``."""
        return f"{self.label} (*{self.suffix})"


def _document_only(export: Callable[[PromptDocument], str]) -> Callable[..., str]:
    def render(doc: PromptDocument, _values: Values, _column: int) -> str:
        return export(doc)

    return render


def _template(doc: PromptDocument, _values: Values, _column: int) -> str:
    return doc.template


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("prompty", "Prompty", ".prompty", _document_only(to_prompty)),
        ExportFormat("promptfoo", "promptfoo config", ".yaml", _document_only(to_promptfoo)),
        ExportFormat("json", "PromptStudio JSON", ".json", _document_only(to_json)),
        ExportFormat("markdown", "Markdown", ".md", _document_only(to_markdown)),
        ExportFormat("template", "Template only", ".j2", _template),
        ExportFormat("python-openai", "Python (openai SDK)", ".py", to_python_openai, True, False),
        ExportFormat(
            "python-anthropic", "Python (anthropic SDK)", ".py", to_python_anthropic, True, False
        ),
        ExportFormat("curl", "curl", ".sh", to_curl, True, False),
    )
}

IMPORT_SUFFIXES: tuple[str, ...] = (".prompty", ".json", ".yaml", ".yml", *TEMPLATE_SUFFIXES)


def export_text(
    doc: PromptDocument, key: str, values: Values | None = None, column: int = 0
) -> str:
    """``doc`` in the format named ``key``; code formats render with ``values``."""
    try:
        fmt = EXPORT_FORMATS[key]
    except KeyError:
        known = ", ".join(EXPORT_FORMATS)
        raise ExchangeError(f"Unknown export format {key!r} (known: {known}).") from None
    if fmt.per_column and doc.columns and not 0 <= column < len(doc.columns):
        raise ExchangeError(f"There is no column {column + 1}; the prompt has {len(doc.columns)}.")
    return fmt.render(doc, doc.variables if values is None else values, column)


def import_text(
    name: str,
    data: str | bytes,
    *,
    base_dir: Path | None = None,
    allow_outside_refs: bool = False,
) -> list[PromptDocument]:
    """The documents in one file's content; ``name`` (the file name) picks the reader.

    A promptfoo config can hold several prompts, so a list comes back; every other format
    gives one document. A name with an unknown suffix is read by its content: ``---``
    front matter as Prompty, a JSON object as ours, anything else as a plain template.
    Files a config refers to are read only from ``base_dir`` and below, unless
    ``allow_outside_refs`` (see :func:`~promptstudio.exchange.from_promptfoo`).
    """
    suffix = Path(name).suffix.lower()
    stem = Path(name).stem
    if suffix == ".prompty":
        return [from_prompty(data, name=stem, base_dir=base_dir)]
    if suffix == ".json":
        return [from_json(data)]
    if suffix in (".yaml", ".yml"):
        # "promptfooconfig" names the tool's file, not the prompt: let the config name it.
        label = "" if stem.lower().startswith("promptfooconfig") else stem
        return from_promptfoo(
            data, name=label, base_dir=base_dir, allow_outside_refs=allow_outside_refs
        )
    if suffix in (".md", ".markdown"):
        return [from_markdown(data, name=stem)]
    if suffix in TEMPLATE_SUFFIXES:
        return [from_text(name, data)]
    text = checked_text(data)
    start = text.lstrip()
    if text.startswith("---\n") or text.startswith("---\r\n"):
        return [from_prompty(text, base_dir=base_dir)]
    if start.startswith("{"):
        return [from_json(text)]
    return [from_text(name, text)]


def import_file(path: Path, *, allow_outside_refs: bool = False) -> list[PromptDocument]:
    """The documents in the file at ``path``; errors name the file.

    Files it refers to are read only from its own folder and below, unless
    ``allow_outside_refs``.
    """
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:  # refused before reading it into memory
            raise ExchangeError(too_big_message(size))
        if not path.is_file():
            raise ExchangeError("This is not a file.")
        data = path.read_bytes()
        return import_text(
            path.name, data, base_dir=path.parent, allow_outside_refs=allow_outside_refs
        )
    except ExchangeError as exc:
        raise exc.in_file(path.name) from exc.__cause__
    except OSError as exc:
        raise ExchangeError(f"{path.name}: cannot be read ({exc.strerror or exc}).") from exc


def suggested_file_name(doc: PromptDocument, key: str) -> str:
    """A file name for ``doc`` in format ``key`` (promptfoo's conventional name for configs)."""
    if key == "promptfoo":
        return "promptfooconfig.yaml"
    return safe_file_stem(doc.name) + EXPORT_FORMATS[key].suffix


_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}
_FORBIDDEN = set('<>:"/\\|?*')
MAX_STEM = 80


def safe_file_stem(name: str) -> str:
    """``name`` as a file name stem valid on Linux, macOS and Windows (never empty)."""
    cleaned = "".join("-" if ch in _FORBIDDEN or not ch.isprintable() else ch for ch in name)
    cleaned = " ".join(cleaned.split())[:MAX_STEM].strip(" .")
    if not cleaned:
        cleaned = "prompt"
    if cleaned.split(".")[0].lower() in _RESERVED:
        cleaned = "_" + cleaned
    return cleaned
