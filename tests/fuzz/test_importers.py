"""Fuzzing every importer: only ExchangeError (or a document) comes out, nothing half stored.

Each format gets raw bytes, a soup of its own tokens, and valid exports with random
edits. A file that is read is then imported into a real library in a temp dir: a refused
import leaves the library as it was, an accepted one stores every document.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from promptstudio.exchange import (
    FORMAT_VERSION,
    PromptDocument,
    to_json,
    to_markdown,
    to_promptfoo,
    to_prompty,
)
from promptstudio.exchange.formats import import_text
from promptstudio.exchange.library_io import import_documents, read_import_files
from promptstudio.storage import Database, library
from tests.exchange.test_promptfoo_import import DOCS_WITH_CASES
from tests.fuzz.strategies import (
    FIELDS,
    JINJA,
    JSON,
    MARKDOWN,
    SHAPED,
    YAML,
    as_bytes,
    mutated,
    soup,
    typed_or_success,
)


def exports(export: Callable[[PromptDocument], str]) -> st.SearchStrategy[str]:
    return DOCS_WITH_CASES.map(export)


def inputs(
    export: Callable[[PromptDocument], str],
    tokens: list[str],
    shaped: Callable[[dict[str, Any]], str],
) -> st.SearchStrategy[bytes]:
    """Token soups, valid exports (edited or not) and documents of the format's own fields."""
    documents = st.dictionaries(st.sampled_from(FIELDS), SHAPED, max_size=8).map(shaped)
    text = st.one_of(soup(tokens), mutated(exports(export), tokens), exports(export), documents)
    return as_bytes(text)


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _front_matter(data: dict[str, Any]) -> str:
    body = data.pop("template", "user:\n{{ x }}")
    return f"---\n{_yaml(data)}---\n{body}\n"


def _json(data: dict[str, Any]) -> str:
    return json.dumps({"format_version": FORMAT_VERSION, **data}, indent=1)


def _markdown(data: dict[str, Any]) -> str:
    return "# Fuzzed\n\n```json\n" + json.dumps(data) + "\n```\n\n```jinja\n{{ x }}\n```\n"


# Files a promptfoo config may reference by file:// (inside its folder).
NEIGHBOURS = {
    "prompt.txt": "user:\n{{ x }}\n",
    "vars.yaml": "x: 1\n",
    "cases.csv": "x,__expected\n1,contains: 1\n",
    "cases.jsonl": '{"vars": {"x": 1}}\n',
}


def check_import(name: str, data: bytes) -> None:
    """Read ``data`` as the file ``name``, then store it; the library changes only whole."""
    docs = typed_or_success(import_text, name, data)
    if docs is not None:
        assert all(isinstance(doc, PromptDocument) for doc in docs)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for neighbour, text in NEIGHBOURS.items():
            (root / neighbour).write_text(text, encoding="utf-8")
        path = root / name
        path.write_bytes(data)
        found = typed_or_success(read_import_files, [path])
        if found is None:
            return  # refused while reading: the library is not even opened
        with Database(root / "library.sqlite3") as db:
            stored = typed_or_success(
                db.call, import_documents, [doc for _, doc in found], source=name
            )
            prompts = db.call(library.count_prompts, include_trashed=True)
            versions = db.call(count_rows, "versions")
            cases = db.call(count_rows, "test_cases")
            if stored is None:
                assert (prompts, versions, cases) == (0, 0, 0), "a refused import stored rows"
            else:
                assert prompts == len(stored) == len(found)


def count_rows(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@given(inputs(to_prompty, YAML + JINJA, _front_matter))
@example(b"---\nname: x\n---\n")
# PyYAML's escapes for no character raised OverflowError / ValueError, not YAMLError.
@example(b'---\nname: "\\U90001000"\n---\nx')
@example(b'---\nname: "\\U01001000"\n---\nx')
def test_prompty(data: bytes) -> None:
    check_import("fuzzed.prompty", data)


@given(inputs(to_promptfoo, YAML, _yaml))
# A "\uD9D8" escape gives an unpaired surrogate; storing it raised UnicodeEncodeError.
@example(b'prompts: ["hi"]\ntests:\n- description: "\\uD9D8"\n')
@example(b'prompts: ["\\U01001000"]\n')  # PyYAML raised ValueError (no such character)
def test_promptfoo_yaml(data: bytes) -> None:
    check_import("promptfooconfig.yaml", data)


@given(inputs(to_json, JSON, _json))
@example(b'{"format_version": 1, "name": "\\ud800", "template": "t"}')
def test_promptstudio_json(data: bytes) -> None:
    check_import("fuzzed.json", data)


@given(inputs(to_markdown, MARKDOWN, _markdown))
def test_markdown(data: bytes) -> None:
    check_import("fuzzed.md", data)


@given(as_bytes(soup(JINJA + YAML + JSON)), st.sampled_from(["fuzzed.txt", "fuzzed.j2", "fuzzed"]))
def test_plain_templates_and_unknown_suffixes(data: bytes, name: str) -> None:
    check_import(name, data)
