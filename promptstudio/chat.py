"""The chat message: what templating produces and what providers send."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
class Message:
    """One turn. An assistant turn may carry ``tool_calls``; a ``tool`` turn is the result
    of the call ``tool_call_id`` names. ``to_dict`` is OpenAI's Chat Completions shape."""

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id:
            data["tool_call_id"] = self.tool_call_id
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """A message as :meth:`to_dict` wrote it; ``ValueError`` for an unknown role or a
        content that is not text."""
        role, content = data.get("role"), data.get("content")
        if role not in (*ROLES, "tool"):
            raise ValueError(f"unknown role {role!r}: use {', '.join(ROLES)}")
        if content is None and data.get("tool_calls"):
            content = ""
        if not isinstance(content, str):
            raise ValueError(f"the content of a {role} turn must be text")
        calls = tuple(ToolCall.from_dict(c) for c in data.get("tool_calls") or ())
        return cls(role, content, calls, str(data.get("tool_call_id") or ""))
