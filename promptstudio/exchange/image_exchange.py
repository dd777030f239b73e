"""Images in exchanged files: Prompty ``kind: image`` inputs, promptfoo ``image_url``
content parts, and the images PromptStudio JSON carries (by hash, with their bytes).

Prompty v2 takes an image as an input of ``kind: image`` whose value (a URL or a data URL)
is placed with ``{{ name }}``; its parser leaves Markdown image syntax as text. So an export
turns ``![alt]({{ name }})`` into ``{{ name }}`` with the value embedded as a data URL (a
file path means nothing to the runtime on another machine), and a literal
``![alt](SOURCE)`` into an input of its own. What is needed to undo it exactly (alt text,
literal sources) goes in ``metadata.promptstudio.images``.

Prompty 2.1 places one rich input per message (a second one in the same message stays a
placeholder string), so a further image in a message starts a new ``user:`` turn there;
the import takes that marker out again.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from promptstudio.chat import Image
from promptstudio.exchange.errors import ExchangeError
from promptstudio.images import (
    ImageError,
    image_from_bytes,
    is_data_url,
    load_image,
    looks_like_image_source,
)
from promptstudio.templating import TemplateError, render_messages

_ROLE_LINE = re.compile(r"^[ \t]*(?:system|user|assistant):[ \t]*$", re.IGNORECASE | re.MULTILINE)
#: ``![alt]({{ name }})`` or ``![alt](literal source)``.
_MARKUP = re.compile(
    r"!\[(?P<alt>[^\]\n]*)\]\(\s*(?:\{\{-?\s*(?P<name>[A-Za-z_]\w*)\s*-?\}\}|(?P<src>[^){}\n]+))\s*\)"
)


def embedded(value: Any) -> Any:
    """An image value as a data URL (a path read now); anything else unchanged."""
    if not isinstance(value, str) or not looks_like_image_source(value):
        return value
    try:
        return load_image(value).data_url()
    except ImageError:
        return value


def images_to_prompty(
    template: str, variables: dict[str, Any]
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """(body, the image inputs' values by name, what undoes it) for a Prompty export."""
    inputs: dict[str, Any] = {}
    undo: list[dict[str, Any]] = []
    markers = [m.start() for m in _ROLE_LINE.finditer(template)]
    with_image: set[int] = set()

    def replace(match: re.Match[str]) -> str:
        alt, name, source = match.group("alt"), match.group("name"), match.group("src")
        message = sum(1 for at in markers if at < match.start())
        split = message in with_image
        with_image.add(message)
        if name is not None:
            inputs[name] = embedded(variables.get(name, ""))
            undo.append({"name": name, "alt": alt})
        else:
            name = _free_name(variables, inputs)
            inputs[name] = embedded(source.strip())
            undo.append({"name": name, "alt": alt, "source": source.strip()})
        if split:
            undo[-1]["split"] = True
            return "\nuser:\n{{ " + name + " }}"
        return "{{ " + name + " }}"

    return _MARKUP.sub(replace, template), inputs, undo


def _free_name(variables: dict[str, Any], taken: dict[str, Any]) -> str:
    number = 1
    while f"image{number}" in variables or f"image{number}" in taken:
        number += 1
    return f"image{number}"


def images_from_prompty(
    template: str, names: list[str], undo: object, variables: dict[str, Any]
) -> str:
    """Put ``![alt](...)`` back around the image inputs' ``{{ name }}``; an input that was a
    literal source in PromptStudio becomes that source again (and stops being a variable)."""
    known = {
        entry["name"]: entry
        for entry in (undo if isinstance(undo, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    }
    for name in names:
        entry = known.get(name, {})
        alt = str(entry.get("alt", name))
        split = r"\nuser:\n" if entry.get("split") else ""
        pattern = re.compile(split + r"\{\{-?\s*" + re.escape(name) + r"\s*-?\}\}")
        if isinstance(entry.get("source"), str):
            variables.pop(name, None)
            target = f"![{alt}]({entry['source']})"
        else:
            target = f"![{alt}]({{{{ {name} }}}})"
        found = pattern.search(template)
        if found is not None:
            template = template[: found.start()] + target + template[found.end() :]
    return template


def image_input_names(front: dict[str, Any]) -> list[str]:
    """The names of a Prompty file's inputs of ``kind: image``."""
    inputs = front.get("inputs")
    if not isinstance(inputs, list):
        return []
    return [
        item["name"]
        for item in inputs
        if isinstance(item, dict)
        and item.get("kind") == "image"
        and isinstance(item.get("name"), str)
    ]


def content_parts(text: str) -> str | list[dict[str, Any]]:
    """A message's text as OpenAI content parts when it holds image markup (promptfoo's
    chat prompts): ``text`` parts and ``image_url`` parts whose URL is the ``{{ name }}``
    (promptfoo fills it) or the literal source as a data URL; else the text itself."""
    if _MARKUP.search(text) is None:
        return text
    parts: list[dict[str, Any]] = []
    done = 0
    for match in _MARKUP.finditer(text):
        if text[done : match.start()]:
            parts.append({"type": "text", "text": text[done : match.start()]})
        name, source = match.group("name"), match.group("src")
        url = "{{ " + name + " }}" if name is not None else embedded(source.strip())
        parts.append({"type": "image_url", "image_url": {"url": url}})
        done = match.end()
    if text[done:]:
        parts.append({"type": "text", "text": text[done:]})
    return parts


def text_of_parts(parts: list[Any]) -> str | None:
    """The inverse of :func:`content_parts`: text with ``![image](URL)``; None when a part
    is neither text nor an image URL."""
    pieces: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            return None
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        elif part.get("type") == "image_url":
            inner = part.get("image_url")
            url = inner.get("url") if isinstance(inner, dict) else inner
            if not isinstance(url, str):
                return None
            pieces.append(f"![image]({url})")
        else:
            return None
    return "".join(pieces)


def sent_images(template: str, variables: dict[str, Any]) -> list[Image]:
    """The images a prompt sends now (read from their files); none when it cannot render."""
    try:
        messages = render_messages(template, variables, allow_empty=True)
    except TemplateError:
        return []
    return [image for message in messages for image in message.images if image.data]


def images_to_json(images: list[Image]) -> list[dict[str, Any]]:
    """Images for PromptStudio JSON: name, source as written, hash and the bytes (base64);
    a data URL source is already in the template or values, so only its hash is listed."""
    out = []
    for image in images:
        entry = {"name": image.alt, "source": image.source, "sha256": image.sha256}
        if not is_data_url(image.source):
            entry |= {"media_type": image.media_type, "data": image.base64()}
        else:
            entry["source"] = image.source.partition(",")[0] + ",…"
        out.append(entry)
    return out


def images_from_json(value: object) -> list[Image]:
    """The images of a PromptStudio JSON file, each checked against its hash."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ExchangeError("'images' must be a list of objects.")
    images = []
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise ExchangeError(f"Image {number} needs a 'sha256'.")
        if "data" not in entry:
            continue  # a data URL: its bytes are in the template or values
        try:
            data = base64.b64decode(str(entry["data"]), validate=True)
            image = image_from_bytes(
                data,
                str(entry.get("name", "")),
                str(entry.get("source", "")),
                what=f"image {number}",
            )
        except (binascii.Error, ValueError, ImageError) as exc:
            raise ExchangeError(f"Image {number} is damaged: {exc}") from None
        if image.sha256 != entry["sha256"]:
            raise ExchangeError(f"Image {number} does not match its sha256: the file is damaged.")
        images.append(image)
    return images
