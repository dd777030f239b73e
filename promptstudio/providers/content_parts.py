"""A message in each API's own shape: plain text, or text and image parts in order.

Chat Completions' shape is :meth:`Message.to_dict`; Responses and Anthropic Messages are
here. No SDK is imported, so code snippets use the same functions the providers send with.
"""

from __future__ import annotations

from typing import Any

from promptstudio.chat import Message, Text


def responses_item(message: Message) -> dict[str, Any]:
    """One Responses input message: ``input_text`` and ``input_image`` parts."""
    if not message.parts:
        return {"role": message.role, "content": message.content}
    content: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, Text):
            if part.text.strip():
                content.append({"type": "input_text", "text": part.text})
        else:
            content.append({"type": "input_image", "image_url": part.data_url(), "detail": "auto"})
    return {"role": message.role, "content": content}


def anthropic_message(message: Message) -> dict[str, Any]:
    """One Anthropic message: ``text`` and ``image`` blocks (base64 or URL source)."""
    if not message.parts:
        return {"role": message.role, "content": message.content}
    content: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, Text):
            if part.text.strip():
                content.append({"type": "text", "text": part.text})
        elif part.data:
            source = {"type": "base64", "media_type": part.media_type, "data": part.base64()}
            content.append({"type": "image", "source": source})
        else:
            content.append({"type": "image", "source": {"type": "url", "url": part.url}})
    return {"role": message.role, "content": content}
