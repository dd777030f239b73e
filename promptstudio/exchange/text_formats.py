"""Markdown pages that read back exactly, and plain template files (``.txt``, ``.j2``).

A Markdown export is written for people: the name as the title, the description, a
bullet per folder, tags and model, then fenced blocks for the variables, the template,
the test cases and the models (columns). It also reads back without loss: the fenced
blocks hold the data exactly (a fence is always longer than any backtick run inside
it), and whatever the visible text cannot show exactly (a name with line breaks, a
template without a final newline, ...) goes into one HTML comment under the title, which
Markdown viewers hide. Sections are found from the end of the file, so the description,
free text, cannot be mistaken for them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from promptstudio.exchange.document import PromptDocument, columns_to_dicts
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.json_format import (
    checked_cases,
    checked_columns,
    checked_tags,
)
from promptstudio.exchange.reading import checked_text

TEMPLATE_SUFFIXES = (".txt", ".md", ".markdown", ".j2", ".jinja", ".jinja2", ".prompt")

# Sections in file order, each a heading and one fenced block.
VARIABLES, TEMPLATE, CASES, MODELS = "Variables", "Template", "Test cases", "Models"
_SECTION_ORDER = (VARIABLES, TEMPLATE, CASES, MODELS)
_FOLDER, _TAGS, _MODEL = "- **Folder:**", "- **Tags:**", "- **Model:**"
_EXACT_OPEN, _EXACT_CLOSE = "<!-- promptstudio ", " -->"
_EXACT_FIELDS = ("name", "description", "folder", "tags", "variables", "cases", "columns")


def to_markdown(doc: PromptDocument) -> str:
    """The prompt as a Markdown page that :func:`from_markdown` reads back exactly."""
    text = _visible(doc)
    seen = _read_visible(text.split("\n"), untitled="", check_settings=False)
    assert seen is not None  # _visible always writes a template section
    read_back, _ = seen
    exact = {
        key: getattr(doc, key)
        for key in _EXACT_FIELDS
        if getattr(read_back, key) != getattr(doc, key)
    }
    if "columns" in exact:
        exact["columns"] = columns_to_dicts(doc.columns)
    if doc.template and not doc.template.endswith("\n"):
        exact["template_final_newline"] = False
    if not exact:
        return text
    title, _, rest = text.partition("\n")
    # ASCII JSON with ">" escaped: the comment holds one line and never closes early.
    payload = json.dumps(exact, ensure_ascii=True, sort_keys=True).replace(">", "\\u003e")
    return f"{title}\n{_EXACT_OPEN}{payload}{_EXACT_CLOSE}\n{rest}"


def from_markdown(data: str | bytes, *, name: str = "") -> PromptDocument:
    """A document from :func:`to_markdown` output, or the whole file as the template.

    A file counts as ours when it ends with a ``## Template`` section (optionally
    followed by ``## Test cases`` and ``## Models``) holding a fenced block; any other
    Markdown is read like :func:`from_text`. The ``- **Model:**`` bullets are for people:
    columns come from the ``## Models`` block only.
    """
    text = checked_text(data)
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        text = text.replace("\r\n", "\n")  # an editor saved the whole file with CRLF
    seen = _read_visible(text.split("\n"), untitled=name or "Imported prompt")
    if seen is None:
        return from_text(name, text)
    doc, exact = seen
    if exact is not None:
        _apply_exact(doc, *exact)
    return doc


def from_text(name: str, data: str | bytes) -> PromptDocument:
    """A template-only document from a plain file; ``name`` may still carry its suffix."""
    text = checked_text(data)
    for suffix in TEMPLATE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return PromptDocument(name=name or "Imported prompt", template=text)


# ---- writing -------------------------------------------------------------------------


def _visible(doc: PromptDocument) -> str:
    lines = [f"# {_one_line(doc.name)}", ""]
    if doc.description:
        lines += [doc.description, ""]
    if doc.folder:
        lines.append(f"{_FOLDER} {_one_line(doc.folder)}")
    if doc.tags:
        lines.append(f"{_TAGS} " + ", ".join(f"`{_one_line(tag)}`" for tag in doc.tags))
    for column in doc.columns:
        params = column.params.to_dict()
        settings = ", ".join(f"{name}={json.dumps(value)}" for name, value in params.items())
        where = _one_line(column.profile or column.base_url)
        model = _one_line(column.model)
        lines.append(f"{_MODEL} `{model}` ({where})" + (f": {settings}" if settings else ""))
    if lines[-1]:
        lines.append("")
    head = "\n".join(lines).split("\n")
    above = _block_before(head, len(head))
    # Written even when empty if the description ends like a Variables section, so
    # that one is never taken for it.
    if doc.variables or (above is not None and above.title == VARIABLES):
        lines += _section(VARIABLES, _json(doc.variables), "json")
    lines += _section(TEMPLATE, doc.template, "jinja")
    if doc.cases:
        lines += _section(CASES, _json(doc.cases), "json")
    if doc.columns:
        lines += _section(MODELS, _json(columns_to_dicts(doc.columns)), "json")
    return "\n".join(lines)


def _section(title: str, text: str, language: str) -> list[str]:
    return [f"## {title}", "", *_fenced(text, language), ""]


def _fenced(text: str, language: str) -> list[str]:
    """A code fence longer than any backtick run inside ``text``, around its lines.

    As in CommonMark, every line in the block ends with a newline, so the text's own
    final newline is not written as an empty line.
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = (text.removesuffix("\n").split("\n")) if text else []
    return [fence + language, *body, fence]


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---- reading -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    title: str
    heading: int  # index of the "## title" line
    body: list[str]
    first_line: int  # 1-based file line of the block's first body line


def _read_visible(
    lines: list[str], *, untitled: str, check_settings: bool = True
) -> tuple[PromptDocument, tuple[dict[str, Any], int] | None] | None:
    """The document the visible text describes, and the exact-values comment (with its
    line number) if there is one; the name is ``untitled`` when there is no title line.

    None when the lines do not end with our sections (no ``## Template`` block).
    """
    blocks: dict[str, _Block] = {}
    end = len(lines)
    remaining = list(reversed(_SECTION_ORDER))
    while remaining:
        block = _block_before(lines, end)
        if block is None or block.title not in remaining:
            break
        remaining = remaining[remaining.index(block.title) + 1 :]
        blocks[block.title] = block
        end = block.heading
    if TEMPLATE not in blocks:
        return None
    template = "".join(line + "\n" for line in blocks[TEMPLATE].body)
    doc = PromptDocument(name=untitled, template=template)
    start = 0
    if end > 0 and (lines[0] == "#" or lines[0].startswith("# ")):
        doc.name = lines[0][1:].strip()
        start = 1
    exact = None
    if start < end and lines[start].startswith(_EXACT_OPEN):
        exact = (_exact_values(lines[start], start + 1), start + 1)
        start += 1
    _read_head(doc, lines[start:end])
    if VARIABLES in blocks:
        doc.variables = _block_json(blocks[VARIABLES], dict, "an object")
    if CASES in blocks:
        doc.cases = checked_cases(_block_json(blocks[CASES], list, "a list"))
    if MODELS in blocks:
        models = _block_json(blocks[MODELS], list, "a list")
        doc.columns = checked_columns(models, doc.notes, check_settings=check_settings)
    return doc, exact


def _block_before(lines: list[str], end: int) -> _Block | None:
    """The ``## title`` + fenced block ending just before line index ``end``, if any."""
    close = end - 1
    while close >= 0 and not lines[close].strip():
        close -= 1
    fence = lines[close].rstrip() if close >= 0 else ""
    if len(fence) < 3 or fence.strip("`"):
        return None
    # Nothing inside holds a backtick run as long as the fence: the nearest line
    # starting with exactly the fence is the opening one.
    opening = close - 1
    while opening >= 0 and not (
        lines[opening].startswith(fence) and not lines[opening][len(fence) :].startswith("`")
    ):
        opening -= 1
    heading = opening - 1
    while heading >= 0 and not lines[heading].strip():
        heading -= 1
    if opening < 0 or heading < 0 or not lines[heading].startswith("## "):
        return None
    return _Block(
        title=lines[heading][3:].strip(),
        heading=heading,
        body=lines[opening + 1 : close],
        first_line=opening + 2,
    )


def _read_head(doc: PromptDocument, head: list[str]) -> None:
    """Description, folder and tags from the lines between the title and the sections."""
    lines = _without_blank_ends(head)
    while lines and lines[-1].startswith((_FOLDER, _TAGS, _MODEL)):
        bullet = lines.pop()
        if bullet.startswith(_FOLDER):
            doc.folder = bullet[len(_FOLDER) :].strip()
        elif bullet.startswith(_TAGS):
            doc.tags = re.findall(r"`([^`]*)`", bullet[len(_TAGS) :])
    doc.description = "\n".join(_without_blank_ends(lines))


def _without_blank_ends(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _block_json(block: _Block, kind: type, described: str) -> Any:
    try:
        value = json.loads("\n".join(block.body))
    except json.JSONDecodeError as exc:
        raise ExchangeError(
            f"The '{block.title}' section is not valid JSON: {exc.msg}.",
            line=block.first_line + exc.lineno - 1,
        ) from None
    except RecursionError:
        raise ExchangeError(f"The '{block.title}' section is nested too deeply.") from None
    if not isinstance(value, kind):
        raise ExchangeError(
            f"The '{block.title}' section must hold {described}.", line=block.first_line
        )
    return value


def _exact_values(line: str, number: int) -> dict[str, Any]:
    payload = line[len(_EXACT_OPEN) :].rstrip()
    if not payload.endswith(_EXACT_CLOSE.strip()):
        raise ExchangeError("The promptstudio comment is not closed on its line.", line=number)
    try:
        values = json.loads(payload[: -len(_EXACT_CLOSE.strip())])
    except (json.JSONDecodeError, RecursionError):
        raise ExchangeError(
            "The promptstudio comment does not hold valid JSON.", line=number
        ) from None
    if not isinstance(values, dict):
        raise ExchangeError("The promptstudio comment must hold a JSON object.", line=number)
    return values


def _apply_exact(doc: PromptDocument, exact: dict[str, Any], number: int) -> None:
    """Replace what the visible text showed with the exact values of the comment."""
    try:
        for key in ("name", "description", "folder"):
            if key in exact:
                if not isinstance(exact[key], str):
                    raise ExchangeError(f"'{key}' must be text.")
                setattr(doc, key, exact[key])
        if "tags" in exact:
            doc.tags = checked_tags(exact["tags"])
        if "variables" in exact:
            if not isinstance(exact["variables"], dict):
                raise ExchangeError("'variables' must be an object.")
            doc.variables = exact["variables"]
        if "cases" in exact:
            doc.cases = checked_cases(exact["cases"])
        if "columns" in exact:
            doc.notes.clear()  # the comment's columns replace the visible ones
            doc.columns = checked_columns(exact["columns"], doc.notes)
    except ExchangeError as exc:
        raise ExchangeError(f"In the promptstudio comment: {exc}", line=number) from None
    if exact.get("template_final_newline") is False:
        doc.template = doc.template.removesuffix("\n")
