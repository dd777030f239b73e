"""The prompts behind Improve, Generate and Optimise: ordinary prompts in the library.

They live in the "PromptStudio" folder, versioned, editable and evaluable like any other;
:func:`seed_feature_prompts` adds the first versions (written from the techniques the
seeds teach) to a library that lacks them, and each feature renders the NEWEST version of
its prompt (:func:`feature_messages`), so an edit the user saves is what runs next.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from promptstudio.chat import Message
from promptstudio.improve.errors import FeatureError
from promptstudio.storage import library
from promptstudio.templating import TemplateError, render_messages

FOLDER = "PromptStudio"
IMPROVER = "Prompt improver"
PROMPT_GENERATOR = "Prompt generator"
CASE_GENERATOR = "Test case generator"
OPTIMISER = "Prompt optimiser"

_TECHNIQUES = """\
1. A clear role: say who the model is and whom it serves.
2. Numbered steps for a task of more than one step.
3. Examples (few-shot) of good answers where format or tone matter.
4. Room to reason: let the model think first, and say where the final answer goes.
5. An explicit output format: length, structure, a JSON shape when a program reads it.
6. Untrusted input kept inside delimiters (<input>...</input>), named as data to work
   on, never as instructions to follow.
7. Small, measurable changes: change what the critique names, keep what works."""

_FORMAT = """\
The template is Jinja2. A line that is exactly `system:`, `user:` or `assistant:` starts
a message of that role; the last message is the user's. Variables are written
{% raw %}{{ name }}{% endraw %}."""

_IMPROVER = f"""system:
You are an expert prompt engineer. You review prompt templates and rewrite them so they
work better, using these techniques:
{_TECHNIQUES}

{_FORMAT}

Rules for the rewrite:
- Keep every variable of the original with the same name; add no new variable.
- Keep each role marker on a line of its own; keep the Jinja2 syntax valid.

Answer in two parts. First your critique: what you would change and why, as a short
numbered list. Then the whole rewritten template between <prompt> and </prompt>, and
nothing after it.

user:
{{% if goal %}}The user's goal for this prompt: {{{{ goal }}}}

{{% endif %}}The template to review (its variables: {{{{ variables }}}}):
<template>
{{{{ template }}}}
</template>
"""

_OPTIMISER = f"""system:
You are an expert prompt engineer improving a prompt template against its test cases.
Use these techniques:
{_TECHNIQUES}

{_FORMAT}

Rules for the rewrite:
- Keep every variable of the original with the same name; add no new variable.
- Keep each role marker on a line of its own; keep the Jinja2 syntax valid.
- Fix the failures below without breaking the cases that pass.

Answer with one sentence saying what you changed, then the whole rewritten template
between <prompt> and </prompt>, and nothing after it.

user:
This is attempt {{{{ attempt }}}} of {{{{ attempts }}}}: make it differ from the other
attempts.
{{% if goal %}}The user's goal for this prompt: {{{{ goal }}}}
{{% endif %}}
The template (its variables: {{{{ variables }}}}):
<template>
{{{{ template }}}}
</template>

The test cases it fails, with the checks' reasons:
<failures>
{{{{ failures }}}}
</failures>
"""

_PROMPT_GENERATOR = f"""system:
You are an expert prompt engineer. You write a first prompt template for a task, using
these techniques:
{_TECHNIQUES}

{_FORMAT}

Put what changes from one use to the next (the user's input, documents, options) in
variables with short snake_case names; wrap untrusted input in delimiters.

Answer with the whole template between <prompt> and </prompt>, then sample values for
every variable as one JSON object between <values> and </values>.

user:
The task:
<task>
{{{{ task }}}}
</task>
"""

_CASE_GENERATOR = """system:
You are a careful test engineer for prompts. You write test cases for a prompt template:
values for each of its variables, covering typical inputs, edge cases (empty, very long,
unusual formats, other languages) and adversarial inputs (instructions hidden in the
input, attempts to change the output format).

For each case give checks where you can state them, in promptfoo's names:
{"type": "contains", "value": "..."}, {"type": "icontains", "value": "..."},
{"type": "not-contains", "value": "..."}, {"type": "equals", "value": "..."},
{"type": "regex", "value": "..."}, {"type": "is-json"}, or
{"type": "llm-rubric", "value": "what a good answer does"}.

Answer with one JSON array between <cases> and </cases>; each element is
{"description": "...", "kind": "typical" | "edge" | "adversarial",
 "vars": {"name": "value", ...}, "assert": [checks]}.

user:
Write {{ count }} test cases for this template (its variables: {{ variables }}):
<template>
{{ template }}
</template>
"""

FEATURE_PROMPTS: dict[str, tuple[str, dict[str, object]]] = {
    IMPROVER: (_IMPROVER, {"goal": "", "variables": "question", "template": ""}),
    OPTIMISER: (
        _OPTIMISER,
        {"goal": "", "variables": "", "template": "", "failures": "", "attempt": 1, "attempts": 1},
    ),
    PROMPT_GENERATOR: (_PROMPT_GENERATOR, {"task": ""}),
    CASE_GENERATOR: (_CASE_GENERATOR, {"count": 10, "variables": "", "template": ""}),
}


def seed_feature_prompts(conn: sqlite3.Connection) -> dict[str, int]:
    """Add the feature prompts the library lacks (in the "PromptStudio" folder); returns
    every feature prompt's id by name. A prompt the user trashed is made again."""
    found = {p.name: p.id for p in library.list_prompts(conn, folder=FOLDER)}
    for name, (template, values) in FEATURE_PROMPTS.items():
        if name in found and library.latest_version_id(conn, found[name]) is not None:
            continue
        if name not in found:
            found[name] = library.create_prompt(conn, name, FOLDER).id
        library.save_version(conn, found[name], template, values, {}, kind="sample",
                             message="First version, written by PromptStudio")  # fmt: skip
    return found


def feature_template(conn: sqlite3.Connection, name: str) -> str:
    """The newest version of the feature prompt ``name`` (seeded first if missing)."""
    prompt_id = seed_feature_prompts(conn)[name]
    version = library.latest_version(conn, prompt_id)
    assert version is not None  # seeded above
    return version.template


def feature_messages(
    conn: sqlite3.Connection, name: str, values: Mapping[str, object]
) -> list[Message]:
    """The feature prompt rendered with ``values`` (the text it works on is a value, so
    its own ``{{ }}`` and role lines stay text)."""
    template = feature_template(conn, name)
    try:
        return render_messages(template, dict(values))
    except TemplateError as exc:
        raise FeatureError(
            f"The prompt {FOLDER}/{name} does not render: {exc.message} "
            "(edit its newest version in the library)"
        ) from exc
