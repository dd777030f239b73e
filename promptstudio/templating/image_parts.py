"""Images in rendered messages: Prompty's ``![alt](SOURCE)`` becomes an image part.

The markup itself (``![``, ``](`` and the closing ``)``) must be literal template text;
SOURCE may be literal or come from values (``![photo]({{ photo }})``). So a value that
merely contains Markdown image syntax (a README pasted as a variable) stays text, as a
value containing ``user:`` stays inside its message. ``{{ }}`` output is told apart by the
marks :func:`~promptstudio.templating.environment.taint` puts around it.
"""

from __future__ import annotations

import re

from promptstudio.chat import Image, Message, Part, Role, Text
from promptstudio.images import ImageError, ImageReader
from promptstudio.templating.errors import ImageRefused
from promptstudio.templating.source import OUTPUT_END, SENTINEL

IMAGE_MARKUP = re.compile(r"!\[([^\]\n]*)\]\(([^)\n]+)\)")


def clean(text: str) -> str:
    """``text`` without the output marks."""
    return text.replace(SENTINEL, "").replace(OUTPUT_END, "")


def _unmark(text: str) -> tuple[str, list[bool]]:
    """The clean text and, per character, whether it came from ``{{ }}`` output."""
    chars: list[str] = []
    from_value: list[bool] = []
    inside = False
    for char in text:
        if char == SENTINEL:
            inside = True
        elif char == OUTPUT_END:
            inside = False
        else:
            chars.append(char)
            from_value.append(inside)
    return "".join(chars), from_value


def to_message(role: Role, marked: str, images: ImageReader) -> Message:
    """The message of one marked body: plain text, or text and images in order."""
    text = clean(marked)
    if "![" not in text:
        return Message(role, text)
    text, from_value = _unmark(marked)
    parts: list[Part] = []
    done = 0
    for match in IMAGE_MARKUP.finditer(text):
        start, end, source_start = match.start(), match.end(), match.start(2)
        syntax = (start, start + 1, source_start - 2, source_start - 1, end - 1)
        if any(from_value[i] for i in syntax) or not match.group(2).strip():
            continue
        alt, source = match.group(1), match.group(2).strip()
        try:
            image = images.load(source, alt)
        except ImageError as exc:
            raise ImageRefused(exc.message, markup=f"![{alt}](") from None
        if text[done:start].strip():
            parts.append(Text(text[done:start]))
        parts.append(image)
        done = end
    if text[done:].strip():
        parts.append(Text(text[done:]))
    if not any(isinstance(part, Image) for part in parts):
        return Message(role, text)
    return Message.of(role, tuple(parts))


_IMAGE_VARIABLE = re.compile(r"!\[[^\]\n]*\]\(\s*\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}\s*\)")


def image_variables(source: str) -> list[str]:
    """Names used as a whole image source, ``![alt]({{ name }})``, in template order."""
    return list(dict.fromkeys(_IMAGE_VARIABLE.findall(source)))
