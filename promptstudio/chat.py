"""The chat message: what templating produces and what providers send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """A message as :meth:`to_dict` wrote it; ``ValueError`` for an unknown role or a
        content that is not text."""
        role, content = data.get("role"), data.get("content")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: use {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise ValueError(f"the content of a {role} turn must be text")
        return cls(role, content)
