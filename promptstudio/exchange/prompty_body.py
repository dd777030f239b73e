"""A ``.prompty`` body rewritten so PromptStudio renders it as the Prompty runtime does.

Done on import, not in the renderer, so PromptStudio's own templates keep their meaning
(text before the first marker is ``user`` there) while an imported file gives the messages
``prompty.prepare`` gives:

- Prompty's markers (``# user:``, ``user[name="bob"]:``, ``User :``, ``developer:``) become
  ours (``user:``; ``developer`` is ``system``; attributes are not kept and are noted).
- Text before the first marker is ``system`` in Prompty: a ``system:`` line goes on top.
- An input of ``kind: thread`` (a list of ``{role, content}`` messages) expands into turns
  where ``{{ name }}`` stands (at the end when it does not appear), then the interrupted
  role goes on. PromptStudio's renderer does that itself for a thread value alone on its
  line (``templating.threads``), so the import only puts ``{{ name }}`` on a line of its
  own. Files imported before wrote a ``{% for %}`` loop instead: :func:`body_to_prompty`
  turns that loop back into ``{{ name }}`` on export.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from promptstudio.templating import TemplateError, input_names
from promptstudio.templating.roles import marker_role
from promptstudio.templating.threads import thread_turns

# Prompty's role line (prompty.parsers.prompty._BOUNDARY_RE), without its attribute grammar:
# a role, optional [attributes], a colon, alone on the line; a leading "#" is allowed.
_PROMPTY_MARKER = re.compile(
    r"^\s*#?\s*(system|user|assistant|developer)(\[[^\]\n]*\])?\s*:\s*$", re.IGNORECASE
)
_ROLES = {"system": "system", "user": "user", "assistant": "assistant", "developer": "system"}

_LOOP = (
    "{{% for turn in {name} %}}\n"
    '{{% if turn.role == "assistant" %}}assistant:'
    '{{% elif turn.role in ("system", "developer") %}}system:'
    "{{% else %}}user:{{% endif %}}\n"
    "{{{{ turn.content }}}}\n"
    "{{% endfor %}}"
)
_LOOP_PATTERN = re.compile(
    r"\n"
    + re.escape(_LOOP.format(name="\x00")).replace("\x00", r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
    + r"\n(?:(?P<role>system|user|assistant):\n)?"
)


def body_from_prompty(body: str, threads: list[str], notes: list[str]) -> str:
    """``body`` with Prompty's markers, default role and ``threads`` in PromptStudio's terms."""
    lines = body.split("\n")
    seen_attributes = seen_developer = False
    first_marker: int | None = None
    for number, line in enumerate(lines):
        found = _PROMPTY_MARKER.match(line.rstrip("\r"))
        if found is None:
            continue
        if first_marker is None:
            first_marker = number
        word = found.group(1).lower()
        role = _ROLES[word]
        seen_attributes |= found.group(2) is not None
        seen_developer |= word == "developer"
        if marker_role(line) != role:
            lines[number] = f"{role}:" + ("\r" if line.endswith("\r") else "")
    text = "\n".join(lines)
    before = lines[:first_marker] if first_marker is not None else lines
    if any(line.strip() for line in before):
        text = "system:\n" + text  # Prompty's role for text before any marker
    if seen_attributes:
        notes.append('Role attributes such as user[name="..."] are not kept (the role is).')
    if seen_developer:
        notes.append("developer messages are imported as system messages.")
    return expand_threads(text, threads)


def expand_threads(text: str, threads: list[str]) -> str:
    """``text`` with each thread input expanded into turns (see the module's docstring)."""
    for name in threads:
        text = _expand_thread(text, name)
    return text


def starts_without_marker(template: str) -> bool:
    """Whether text comes before the first PromptStudio marker (a ``user`` message here,
    a ``system`` one in Prompty)."""
    for line in template.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if marker_role(line) is not None:
            return False
        if line.strip():
            return True
    return False


def _expand_thread(text: str, name: str) -> str:
    """``{{ name }}`` alone on its line, where it stands or at the end."""
    place = re.compile(r"\{\{-?\s*" + re.escape(name) + r"\s*-?\}\}")
    found = place.search(text)
    own_line = "{{ " + name + " }}"
    if found is None:  # Prompty adds the turns after everything else
        return text + ("" if text.endswith("\n") or not text else "\n") + own_line + "\n"
    start, end = found.start(), found.end()
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end) % (len(text) + 1)
    before = "\n" if text[line_start:start].strip() else ""
    after = "\n" if text[end:line_end].strip() else ""
    # Prompty's turns split the message there; the text either side loses its spaces.
    head = text[:start].rstrip(" \t") if before else text[:start]
    tail = text[end:].lstrip(" \t") if after else text[end:]
    return head + before + own_line + after + tail


def body_to_prompty(
    template: str, variables: Mapping[str, object] | None = None
) -> tuple[str, list[str]]:
    """``template`` with each expanded thread loop back as ``{{ name }}``, and the names of
    the thread inputs: those loops', and each variable holding turns (``thread_turns``)
    that stands alone on its line as ``{{ name }}``."""
    names: list[str] = []

    def collapse(found: re.Match[str]) -> str:
        names.append(found.group("name"))
        at_end = found.end() == len(template) and found.group("role") is None
        return "" if at_end else "{{ " + found.group("name") + " }}"

    text = _LOOP_PATTERN.sub(collapse, template)
    for name, value in (variables or {}).items():
        alone = re.compile(r"^[ \t]*\{\{-?\s*" + re.escape(name) + r"\s*-?\}\}[ \t]*$", re.M)
        if thread_turns(value) is not None and alone.search(text):
            names.append(name)
    return text, list(dict.fromkeys(names))


def undeclared_inputs(template: str, declared: set[str]) -> list[str]:
    """Variables the template uses that the file does not declare (Prompty renders them
    empty); none when the template cannot be parsed (the editor shows that error)."""
    try:
        used = input_names(template)
    except TemplateError:
        return []
    return [name for name in used if name not in declared]
