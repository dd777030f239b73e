"""Role markers: how one template document becomes a list of chat messages.

A line holding only ``system:``, ``user:`` or ``assistant:`` (any case, surrounding spaces
allowed) starts a new message with that role. Only literal template text can form a marker,
including literal text repeated by a ``{% for %}`` loop; text produced by ``{{ }}`` cannot,
because :func:`~promptstudio.templating.environment.taint` marks every line of it. So a
variable's value can never open a new message, whatever it contains. (A consequence:
markers inside a macro body don't work either, since the macro is output via ``{{ }}``.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from jinja2.exceptions import TemplateSyntaxError

from promptstudio.chat import ROLES, Message, Role
from promptstudio.images import ImageReader
from promptstudio.templating.environment import environment
from promptstudio.templating.image_parts import clean, to_message
from promptstudio.templating.source import SENTINEL, LineIndex, RawTokenTracker, normalise
from promptstudio.templating.threads import ThreadValue

_MARKERS: dict[str, Role] = {f"{role}:": role for role in ROLES}


@dataclass(frozen=True, slots=True)
class RoleMarker:
    """A marker line in the source, for highlighting and outlining."""

    role: str
    line: int  # 1-based


def marker_role(line: str) -> Role | None:
    """The role a line opens, or None; lines holding ``{{ }}`` output never open one."""
    if SENTINEL in line:
        return None
    return _MARKERS.get(line.strip().lower())


def role_markers(source: str) -> list[RoleMarker]:
    """Source lines that will open a message when rendered.

    A line counts when its literal text, ignoring ``{% %}`` tags and ``{# #}`` comments,
    is a marker and it has no ``{{ }}`` expression, so ``{% for x in xs %}user:`` counts.
    Never raises: after a lexer error the rest of the text is taken as literal.
    """
    text = normalise(source)
    lines = LineIndex(text)
    literal: dict[int, list[str]] = {}
    has_output: set[int] = set()
    tracker = RawTokenTracker(environment(), text)
    try:
        for _ in tracker.tokens():
            pass
        tail = len(text)
    except TemplateSyntaxError:
        tail = tracker.last_end
    spans = [(kind, start, end) for kind, start, end in tracker.spans]
    if tail < len(text):
        spans.append(("data", tail, len(text)))
    for kind, start, end in spans:
        if kind == "variable_begin":
            has_output.add(lines.position(start)[0])
        elif kind == "data":
            first = lines.position(start)[0]
            for number, piece in enumerate(text[start:end].split("\n"), start=first):
                literal.setdefault(number, []).append(piece)
    markers = []
    for number in sorted(literal.keys() - has_output):
        role = marker_role("".join(literal[number]))
        if role is not None:
            markers.append(RoleMarker(role, number))
    return markers


def _strip_blank_lines(lines: list[str]) -> str:
    """Drop whitespace-only lines at both ends; keep everything between exactly."""
    start, end = 0, len(lines)
    while start < end and not clean(lines[start]).strip():
        start += 1
    while end > start and not clean(lines[end - 1]).strip():
        end -= 1
    return "\n".join(lines[start:end])


def split_messages(
    rendered: str, threads: Sequence[ThreadValue] = (), images: ImageReader | None = None
) -> list[Message]:
    """Split rendered (tainted) output into messages and remove the taint.

    ``![alt](SOURCE)`` in a message becomes an image part (see ``image_parts``), read by
    ``images`` (None: relative paths from the current directory).

    Text before the first marker, or all text when there is no marker, is a ``user``
    message. Each message loses its leading and trailing blank lines. Messages that are
    then empty are dropped (a marker followed by nothing, or whitespace before the first
    marker), so providers never receive empty turns. A line that is only a thread's token
    (``{{ history }}`` alone on its line) becomes the thread's turns, after which the
    interrupted role goes on; a token within other text becomes the thread's JSON.
    """
    tokens = {thread.token: thread for thread in threads}
    # (role, lines, whether the lines are a thread's turn, kept exactly as given)
    turns: list[tuple[Role, list[str], bool]] = [("user", [], False)]
    for line in rendered.split("\n"):
        role = marker_role(line)
        if role is not None:
            turns.append((role, [], False))
            continue
        if tokens:
            thread = tokens.get(clean(line).strip())
            if thread is not None:
                interrupted = turns[-1][0]
                turns += [(turn.role, [turn.content], True) for turn in thread.turns]
                turns.append((interrupted, [], False))
                continue
            for token, found in tokens.items():
                if token in line:
                    line = line.replace(token, found.as_json())
        turns[-1][1].append(line)
    reader = images or ImageReader()
    messages = [
        Message(role, body[0]) if exact else to_message(role, _strip_blank_lines(body), reader)
        for role, body, exact in turns
    ]
    return [message for message in messages if message.content or message.parts]


def as_template(turns: Sequence[Message]) -> str:
    """The turns as a template with role markers that renders back to the same turns: a
    conversation copied into a new prompt. A turn holding template syntax or a line that
    would be a role marker is written as one ``{{ "..." }}`` string, so it stays text."""
    parts = []
    for turn in turns:
        text = turn.content.strip("\n")
        if not text.strip():
            continue
        parts.append(f"{turn.role}:\n{_as_literal(text)}\n")
    return "\n".join(parts)


_SYNTAX = ("{{", "{%", "{#", "}}", "%}", "#}")


def _as_literal(text: str) -> str:
    marker = any(marker_role(line) is not None for line in text.split("\n"))
    if not marker and not any(mark in text for mark in _SYNTAX):
        return text
    # A JSON string is a Jinja string literal (Jinja decodes the same escapes).
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}"
