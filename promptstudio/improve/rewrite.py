"""A model's rewrite of a template: read from its reply, and taken only if it is sound.

The improver and optimiser prompts ask for the whole template between ``<prompt>`` and
``</prompt>``; the text before it is the critique. A rewrite is rejected, with the reason,
when it drops or renames a variable (or adds one no value fills), does not render, or
breaks the roles (no message left, the user's turn lost, an assistant message last).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from promptstudio.chat import Message
from promptstudio.improve.errors import RewriteRejected
from promptstudio.templating import TemplateError, input_names, render_messages

_PROMPT = re.compile(r"<prompt>\s*?\n?(.*?)\s*</prompt>", re.DOTALL)
#: What fills a variable the prompt holds no value for, to see that the rewrite renders.
SAMPLE_VALUE = "example"


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed template and what the model said about it."""

    critique: str
    template: str


def parse_proposal(reply: str) -> Proposal:
    """The last ``<prompt>...</prompt>`` of ``reply`` and the critique before it."""
    found = list(_PROMPT.finditer(reply))
    if not found:
        raise RewriteRejected("The model's reply holds no rewrite between <prompt> and </prompt>.")
    last = found[-1]
    template = last.group(1).strip("\n")
    if not template.strip():
        raise RewriteRejected("The rewrite between <prompt> and </prompt> is empty.")
    critique = reply[: found[0].start()].strip()
    return Proposal(critique, template + "\n")


def check_rewrite(
    original: str, rewrite: str, values: Mapping[str, object] | None = None
) -> list[Message]:
    """The rewrite's messages when it keeps the original's variables and roles and renders
    (with ``values``, each missing one filled with a sample); else :class:`RewriteRejected`
    saying why."""
    try:
        before = input_names(original)
    except TemplateError:
        before = []  # the original itself is broken: judge the rewrite on its own
    try:
        after = input_names(rewrite)
    except TemplateError as exc:
        raise RewriteRejected(f"The rewrite is not a valid template: {_where(exc)}") from exc
    dropped = [name for name in before if name not in after]
    added = [name for name in after if name not in before]
    if dropped and added:
        raise RewriteRejected(
            f"The rewrite renames variables: {_names(dropped)} became {_names(added)}; "
            "every variable must keep its name."
        )
    if dropped:
        raise RewriteRejected(
            f"The rewrite drops the variable{'s' if len(dropped) > 1 else ''} "
            f"{_names(dropped)}; every variable must be kept."
        )
    if added and before:
        raise RewriteRejected(
            f"The rewrite adds the variable{'s' if len(added) > 1 else ''} {_names(added)}, "
            "which no value or test case fills."
        )
    filled: dict[str, object] = {name: SAMPLE_VALUE for name in after}
    filled.update({k: v for k, v in (values or {}).items() if v not in ("", None)})
    try:
        messages = render_messages(rewrite, filled)
    except TemplateError as exc:
        raise RewriteRejected(f"The rewrite does not render: {_where(exc)}") from exc
    _check_roles(original, filled, messages)
    return messages


def _check_roles(original: str, values: Mapping[str, object], messages: list[Message]) -> None:
    try:
        old_roles = [m.role for m in render_messages(original, values)]
    except TemplateError:
        old_roles = []
    roles = [m.role for m in messages]
    if "user" in old_roles and "user" not in roles:
        raise RewriteRejected("The rewrite has no user message left; the original had one.")
    if roles[-1] == "assistant" and (not old_roles or old_roles[-1] != "assistant"):
        raise RewriteRejected(
            "The rewrite ends with an assistant message; the last message must be the user's."
        )
    if "system" in roles[1:] and "system" not in old_roles[1:]:
        raise RewriteRejected("The rewrite has a system message after the first message.")


def _where(exc: TemplateError) -> str:
    line = getattr(exc, "line", None)
    return f"line {line}: {exc.message}" if line else exc.message


def _names(names: list[str]) -> str:
    return ", ".join(f"{{{{ {name} }}}}" for name in names)
