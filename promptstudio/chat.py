"""The chat message: what templating produces and what providers send."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
# The roles a template's markers may name ("tool" turns come from a run, not a template).
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model made: its id (what the result answers), the tool's name and the
    arguments as the JSON text the model wrote."""

    id: str
    name: str
    arguments: str = ""

    def to_dict(self) -> dict[str, Any]:
        """As OpenAI's Chat Completions writes it in an assistant message."""
        function = {"name": self.name, "arguments": self.arguments or "{}"}
        return {"id": self.id, "type": "function", "function": function}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        function = data.get("function") or data
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        return cls(str(data.get("id") or ""), str(function.get("name") or ""), arguments)


@dataclass(frozen=True, slots=True)
class Text:
    """A run of text inside a message that also holds images."""

    text: str


@dataclass(frozen=True, slots=True)
class Image:
    """An image inside a message: its bytes (a local file or a data URL) or a remote URL.

    ``source`` is what the template said (a path, an URL, or a data URL), kept for showing
    and storing; ``data`` is empty exactly when the image is sent as the ``url`` it came from.
    """

    alt: str
    source: str
    media_type: str = ""  # "image/png", ...; "" for a remote URL (the server reads it)
    data: bytes = field(default=b"", repr=False)
    url: str = ""

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes (of the URL for a remote image): the image's identity."""
        return hashlib.sha256(self.data or self.url.encode()).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """What OpenAI takes: a ``data:`` URL for bytes, else the remote URL itself."""
        if not self.data:
            return self.url
        return f"data:{self.media_type};base64,{self.base64()}"

    def label(self) -> str:
        """A short description for people: the alt text or file name, type, size, hash."""
        name = self.alt or self.source.rsplit("/", 1)[-1][:60]
        if not self.data:
            return f"{name} ({self.url})"
        kind = self.media_type.removeprefix("image/").upper()
        return f"{name} ({kind}, {self.size:,} bytes, sha256 {self.sha256[:12]})"


Part = Text | Image


@dataclass(frozen=True, slots=True)
class Message:
    """One chat turn. ``content`` is its text; ``parts`` is set when it also holds images.

    With images, ``parts`` lists text and images in order and ``content`` is the text
    parts joined (images left out), so text-only callers keep working. An assistant turn
    may carry ``tool_calls``; a ``tool`` turn is the result of the call ``tool_call_id``
    names. ``to_dict`` is OpenAI's Chat Completions shape.
    """

    role: Role
    content: str
    parts: tuple[Part, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""

    @classmethod
    def of(cls, role: Role, parts: tuple[Part, ...]) -> Message:
        """A message from parts; text-only parts collapse to a plain message."""
        if not any(isinstance(part, Image) for part in parts):
            return cls(role, "".join(p.text for p in parts if isinstance(p, Text)))
        text = "".join(p.text for p in parts if isinstance(p, Text))
        return cls(role, text, parts)

    @property
    def images(self) -> tuple[Image, ...]:
        return tuple(part for part in self.parts if isinstance(part, Image))

    def segments(self) -> tuple[Part, ...]:
        """Text and images in order (a plain message is one text part)."""
        return self.parts or (Text(self.content),)

    def to_dict(self) -> dict[str, Any]:
        """The Chat Completions shape: plain content or parts with ``image_url``, plus
        the turn's tool calls or the id of the call it answers."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.parts:
            content: list[dict[str, Any]] = []
            for part in self.parts:
                if isinstance(part, Text):
                    if part.text.strip():
                        content.append({"type": "text", "text": part.text})
                else:
                    url = {"url": part.data_url()}
                    content.append({"type": "image_url", "image_url": url})
            data["content"] = content
        if self.tool_calls:
            data["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id:
            data["tool_call_id"] = self.tool_call_id
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """A message as :meth:`to_dict` wrote it (text content); ``ValueError`` for an
        unknown role or a content that is not text."""
        role, content = data.get("role"), data.get("content")
        if role not in (*ROLES, "tool"):
            raise ValueError(f"unknown role {role!r}: use {', '.join(ROLES)}")
        if content is None and data.get("tool_calls"):
            content = ""
        if not isinstance(content, str):
            raise ValueError(f"the content of a {role} turn must be text")
        calls = tuple(ToolCall.from_dict(c) for c in data.get("tool_calls") or ())
        return cls(
            role, content, tool_calls=calls, tool_call_id=str(data.get("tool_call_id") or "")
        )
