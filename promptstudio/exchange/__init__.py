"""Export prompts to other tools' formats and import them back; Qt-free.

Every export is a pure ``(doc) -> str`` (code snippets also take the variable values),
deterministic, with a stable key order so the files live well in git. Every import
returns a whole :class:`PromptDocument` or raises :class:`ExchangeError`: nothing is
ever half imported.
"""

from __future__ import annotations

from promptstudio.exchange.code_snippets import to_curl, to_python_anthropic, to_python_openai
from promptstudio.exchange.document import PromptDocument
from promptstudio.exchange.errors import ExchangeError, OutsideReferenceError
from promptstudio.exchange.json_format import FORMAT_VERSION, from_json, to_json
from promptstudio.exchange.promptfoo_format import to_promptfoo
from promptstudio.exchange.promptfoo_import import from_promptfoo
from promptstudio.exchange.prompty_format import from_prompty, to_prompty
from promptstudio.exchange.reading import MAX_IMPORT_BYTES
from promptstudio.exchange.text_formats import from_markdown, from_text, to_markdown

__all__ = [
    "FORMAT_VERSION",
    "MAX_IMPORT_BYTES",
    "ExchangeError",
    "OutsideReferenceError",
    "PromptDocument",
    "from_json",
    "from_markdown",
    "from_promptfoo",
    "from_prompty",
    "from_text",
    "to_curl",
    "to_json",
    "to_markdown",
    "to_promptfoo",
    "to_prompty",
    "to_python_anthropic",
    "to_python_openai",
]
