"""promptfoo configs read back: one :class:`PromptDocument` per prompt of the config.

Reads our own exports (:mod:`promptstudio.exchange.promptfoo_format`) and configs written
by hand in promptfoo's documented style; :func:`from_promptfoo` says what is kept and
what is skipped. The parts: :mod:`~promptstudio.exchange.promptfoo_prompts` (prompts),
:mod:`~promptstudio.exchange.promptfoo_providers` (providers as run columns),
:mod:`~promptstudio.exchange.promptfoo_cases` (tests as test cases) and
:mod:`~promptstudio.exchange.promptfoo_files` (the YAML and the files it refers to).
"""

from __future__ import annotations

import copy
from pathlib import Path

from promptstudio.exchange.document import PromptDocument
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.promptfoo_cases import cases_from_config, ungraded_notes
from promptstudio.exchange.promptfoo_files import ReferencedFiles, load_yaml, scalar_text
from promptstudio.exchange.promptfoo_prompts import prompts_from_config
from promptstudio.exchange.promptfoo_providers import (
    columns_for_prompt,
    columns_from_providers,
    tools_from_providers,
)
from promptstudio.exchange.reading import checked_text


def from_promptfoo(
    data: str | bytes,
    *,
    name: str = "",
    base_dir: Path | None = None,
    allow_outside_refs: bool = False,
) -> list[PromptDocument]:
    """One document per prompt of a promptfoo config; :class:`ExchangeError` otherwise.

    Read: ``description``; ``prompts`` as text, a list of text or ``{label, raw}`` /
    ``{id, label}`` objects, or the legacy ``{text: label}`` mapping (a chat-format JSON
    list becomes a template with role markers, its messages' content text or a list of
    text parts; Nunjucks is left as written, promptfoo's ``load`` and ``dump`` filters
    included); ``providers`` whose id is ``openai:chat:M``, ``openai:M``,
    ``openai:responses:M``, ``anthropic:messages:M``, ``ollama:chat:M`` or ``ollama:M``
    (as text, ``{id, label, config}`` or ``{id: {config}}``) become run columns of the
    prompts their ``prompts`` list names (every prompt without one); ``tests`` become test
    cases, each with ``defaultTest``'s vars under its own and ``defaultTest``'s assertions
    before its own (checks PromptStudio does not grade are kept), and a case per text of a
    variable holding a list of texts, as promptfoo runs it (unless ``disableVarExpansion``).
    The document's variables are the first case's vars (``defaultTest``'s without tests).
    Skipped without error, and said in each document's ``notes``: other providers
    (Vertex, Bedrock, HTTP, ...), transforms of answers (``options.transform``, a
    provider's ``transform``) and checks kept but not graded. Skipped silently: provider
    settings PromptStudio has no column setting for, API keys written in the config,
    ``scenarios``, and test keys other than ``description``, ``vars``, ``assert``,
    ``options``, ``threshold`` and ``metadata.expected``.

    Files referenced as ``file://path`` (or a bare ``path.txt``) are read relative to
    ``base_dir``: prompts from ``.txt`` (split at ``---`` lines, as promptfoo does),
    ``.json``/``.yaml`` chat lists or any other text file; tests, ``defaultTest`` and vars
    from ``.yaml``/``.yml``/``.json``, tests also from ``.csv`` and ``.jsonl`` (as
    ``eval --cases`` reads them); a variable's value ``file://...`` as promptfoo gives it
    (a text file trimmed, a YAML file as JSON text). Without ``base_dir`` a reference is
    an error, as are globs, prompt functions and variables from code (Python,
    JavaScript), media variables, ``exec:`` prompts and prompts or tests from services
    (Langfuse, Hugging Face, ...). A reference that resolves outside ``base_dir`` (``../``,
    an absolute path, a symbolic link leading out) is not read: the config is refused
    with :class:`OutsideReferenceError` naming every such reference, unless
    ``allow_outside_refs``. An assertion value ``file://...`` stays that text. A template
    read from a file carries its ``origin``, so a render error names that file's line.

    A document is named after its prompt's label (or a non-file ``id``, or the prompt
    file's name), else ``name``, else the config's description, else "Imported prompt";
    repeated names get " 2", " 3", ... Column ids are new (``c1``..``cN``); a column's
    profile comes from a label our export wrote (``"groq llama-3.1-8b"``), else from the
    provider (``openai``, ``anthropic``, ``ollama``; none for other OpenAI-compatible
    hosts). Round trip: a document without test cases comes back with one case holding
    its variables, and the template comes back in canonical form (one blank line between
    messages, a final newline).
    """
    files = ReferencedFiles(base_dir, allow_outside_refs)
    config = load_yaml(checked_text(data), "The config")
    if not isinstance(config, dict):
        raise ExchangeError(
            "A promptfoo config is a YAML mapping (key: value lines) with 'prompts'.", line=1
        )
    prompts = prompts_from_config(config.get("prompts"), files)
    description = scalar_text(config.get("description"), "'description'")
    notes: list[str] = []
    columns = columns_from_providers(config.get("providers"), notes)
    tools = tools_from_providers(config.get("providers"))
    cases, default_vars = cases_from_config(config, files, notes)
    if config.get("scenarios"):
        notes.append("The config's scenarios are left out (PromptStudio has no place for them).")
    files.refuse_outside()
    notes += ungraded_notes(cases)
    if not prompts:
        raise ExchangeError("The config has no prompts: there is nothing to import.")
    variables = cases[0]["vars"] if cases else default_vars
    fallback = name or description or "Imported prompt"
    names = _numbered([label or fallback for label, _template, _origin, _known in prompts])
    return [
        PromptDocument(
            name=doc_name,
            description=description,
            template=template,
            variables=copy.deepcopy(variables),
            columns=columns_for_prompt(columns, known),
            cases=copy.deepcopy(cases),
            tools=list(tools),
            notes=list(notes),
            origin=origin,
        )
        for doc_name, (_label, template, origin, known) in zip(names, prompts, strict=True)
    ]


def _numbered(names: list[str]) -> list[str]:
    """``names`` with repeats numbered: ``["A", "A", "A"]`` → ``["A", "A 2", "A 3"]``."""
    seen: dict[str, int] = {}
    numbered = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        numbered.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return numbered
