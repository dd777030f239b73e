"""A promptfoo config's ``prompts`` as templates: text, files, chat lists and content parts.

Part of :mod:`promptstudio.exchange.promptfoo_import`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from promptstudio.chat import ROLES
from promptstudio.exchange.document import TemplateOrigin
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.image_exchange import text_of_parts
from promptstudio.exchange.promptfoo_files import ReferencedFiles, scalar_text
from promptstudio.templating.roles import marker_role

# A bare path promptfoo reads as a file, e.g. "prompts/a.txt" or "prompt.py:make".
_BARE_PATH = re.compile(r"^[^\s]+\.(txt|json|jsonl|ya?ml|md|j2|csv|py|js|ts|mjs|cjs)(:[\w.]+)?$")
# Prompts promptfoo fetches or generates elsewhere: a program, a prompt management service.
_MANAGED = re.compile(r"^(exec:|langfuse://|portkey://|helicone://)\S+$")


def prompts_from_config(
    value: object, files: ReferencedFiles
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
            label = scalar_text(entry.get("label"), f"The label of prompt {number}")
            raw, prompt_id = entry.get("raw"), entry.get("id")
            given = raw if isinstance(raw, str) else prompt_id
            if not isinstance(given, str):
                raise ExchangeError(f"{what} has no 'raw' text or 'id'.")
            source = given
            if not label and isinstance(raw, str) and isinstance(prompt_id, str):
                label = prompt_id if not is_reference(prompt_id) else ""
        else:
            raise ExchangeError(f"{what} must be text or a mapping.")
        if _MANAGED.match(source):
            raise ExchangeError(f"{what} comes from {source}, outside the config: not imported.")
        known = {name for name in (label, source) if name}
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            known.add(entry["id"])
        if is_reference(source):
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


def is_reference(text: str) -> bool:
    return text.startswith("file://") or bool(_BARE_PATH.match(text))
