"""Readable Markdown export, and plain template files (``.txt``, ``.md``, ``.j2``) imported."""

from __future__ import annotations

import json
import re

from promptstudio.exchange.document import PromptDocument
from promptstudio.exchange.reading import checked_text

TEMPLATE_SUFFIXES = (".txt", ".md", ".markdown", ".j2", ".jinja", ".jinja2", ".prompt")


def to_markdown(doc: PromptDocument) -> str:
    """The prompt as a Markdown page: title, metadata, columns, variables, template."""
    lines = [f"# {_one_line(doc.name)}", ""]
    if doc.description:
        lines += [doc.description, ""]
    if doc.folder:
        lines.append(f"- **Folder:** {_one_line(doc.folder)}")
    if doc.tags:
        lines.append("- **Tags:** " + ", ".join(f"`{_one_line(tag)}`" for tag in doc.tags))
    for column in doc.columns:
        params = column.get("params") or {}
        settings = ", ".join(f"{name}={json.dumps(value)}" for name, value in params.items())
        where = _one_line(str(column.get("profile") or column.get("base_url") or ""))
        model = _one_line(str(column.get("model") or ""))
        lines.append(f"- **Model:** `{model}` ({where})" + (f": {settings}" if settings else ""))
    if lines[-1]:
        lines.append("")
    if doc.variables:
        lines += [
            "## Variables",
            "",
            *_fenced(json.dumps(doc.variables, indent=2, ensure_ascii=False), "json"),
            "",
        ]
    lines += ["## Template", "", *_fenced(doc.template, "jinja"), ""]
    return "\n".join(lines)


def from_text(name: str, data: str | bytes) -> PromptDocument:
    """A template-only document from a plain file; ``name`` may still carry its suffix."""
    text = checked_text(data)
    for suffix in TEMPLATE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return PromptDocument(name=name or "Imported prompt", template=text)


def _fenced(text: str, language: str) -> list[str]:
    """A code fence longer than any backtick run inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, text.rstrip("\n"), fence]


def _one_line(text: str) -> str:
    return " ".join(text.split())
