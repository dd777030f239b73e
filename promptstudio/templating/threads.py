"""Thread variables: a value that holds a conversation expands into its turns.

A variable's value is a thread when it is a list of turns, each ``{"role": ..., "content":
"..."}`` with a role of ``system``, ``user`` or ``assistant`` (Prompty's ``developer``
reads as ``system``) -- typed as JSON in the variables form or on the command line, or
the default of a Prompty ``kind: thread`` input; a text value that is such a list in JSON
(a file read with ``--var NAME=@turns.json``) counts too. ``{{ history }}`` alone on its line then
becomes one message per turn, and the text after it goes on in the role it interrupted
(as Prompty expands a ``kind: thread`` input). Anywhere else on a line it prints as JSON,
never as a Python repr. In ``{% for %}`` and filters it is the list it always was.

The value reaches the renderer as a :class:`ThreadValue` (a list); ``{{ }}`` output of
one is a token that :func:`~promptstudio.templating.roles.split_messages` replaces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from promptstudio.chat import ROLES, Message, Role
from promptstudio.values import parse_value

#: A Unicode noncharacter around a thread's number in rendered text (never in a message).
THREAD_MARK = "\ufdd2"  # \ufdd0, \ufdd1: the output marks (``source``)

_ROLE_NAMES: dict[str, Role] = {role: role for role in ROLES} | {"developer": "system"}


def thread_turns(value: object) -> list[Message] | None:
    """The turns of a thread value, or None when ``value`` is not a list of turns.

    An empty list counts (a thread with no turns yet). Turns with empty text are left out:
    nothing empty is ever sent.
    """
    if not isinstance(value, list):
        return None
    turns: list[Message] = []
    for item in value:
        if not isinstance(item, Mapping):
            return None
        role, content = item.get("role"), item.get("content")
        if not isinstance(role, str) or role.lower() not in _ROLE_NAMES:
            return None
        if not isinstance(content, str):
            return None
        if content:
            turns.append(Message(_ROLE_NAMES[role.lower()], content))
    return turns


def is_thread(value: object) -> bool:
    """A non-empty list of turns (what the variables form edits as a thread)."""
    return isinstance(value, list) and bool(value) and thread_turns(value) is not None


def thread_value(turns: Sequence[Message]) -> list[dict[str, Any]]:
    """Turns as the JSON-ready value of a thread variable."""
    return [m.to_dict() for m in turns]


class ThreadValue(list[Any]):
    """A thread value while a template renders: the list it was, plus the token its
    ``{{ }}`` output becomes and the turns the token stands for."""

    def __init__(self, items: Sequence[Any], turns: list[Message], number: int) -> None:
        super().__init__(items)
        self.turns = turns
        self.token = f"{THREAD_MARK}{number}{THREAD_MARK}"

    def as_json(self) -> str:
        return json.dumps(thread_value(self.turns), ensure_ascii=False)


def with_threads(values: Mapping[str, object]) -> tuple[dict[str, object], list[ThreadValue]]:
    """The render context: each thread value wrapped as a :class:`ThreadValue`."""
    context: dict[str, object] = {}
    threads: list[ThreadValue] = []
    for name, value in values.items():
        if isinstance(value, str) and value.lstrip().startswith("["):
            typed = parse_value(value)  # a thread read as text (``--var NAME=@turns.json``)
            value = typed if is_thread(typed) else value
        turns = thread_turns(value)
        if turns is not None:
            assert isinstance(value, list)
            value = ThreadValue(value, turns, len(threads))
            threads.append(value)
        context[name] = value
    return context, threads
