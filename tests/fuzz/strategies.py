"""Inputs for the fuzz tests: token soups, mutated valid files, raw bytes.

Pure random text rarely gets past a parser's first check, so most inputs are built from
the tokens each format is made of, or are valid exports with random edits (cut, insert,
repeat, replace), which reach deep into the readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st

from promptstudio.errors import PromptStudioError

# Characters that break naive readers: line ends of every kind, NUL, BOM, surrogates are
# impossible in str from bytes so they come in through st.text.
AWKWARD = [
    "\n", "\r\n", "\r", "\t", " ", "\x00", "\ufeff", "\u2028", "\x85", "\\", "é", "😀",
    "\x1b", "'", '"', "`", ",", ";", ":", "#", "-", "=", "{", "}", "[", "]",
]  # fmt: skip

JINJA = [
    "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", "x", "name", "items",
    "loop.index", "if ", "elif ", "else", "endif", "for ", " in ", "endfor", "set ", "=",
    "|", "upper", "join(', ')", "tojson", "default('d')", "length", "range(", "range(9)",
    "(", ")", "[", "]", ",", "'a'", '"b"', "*", "**", "+", "~", "%", "//", "1", "9",
    "99999", "10**9", "-1", ".", "raw", "endraw", "macro m()", "endmacro", "m()",
    "call m()", "endcall", "caller()", "namespace(n=1)", "__class__", "|attr('x')",
    "'%s'|format(x)", "'{}'.format", "replace('a','bb')", "center(9999)", "indent(99)",
    "wordwrap(3)", "lipsum(", "dict(a=1)", "[1,2]", "{'k': 1}", " and ", " or ", " not ",
    " is defined", " if x else ", "loop.cycle(1,2)", "batch(3)", "slice(2)", "map('upper')",
    "select", "x.y", "x['y']", "items()", "self", "super()", "block b", "endblock",
    "extends 'a'", "include 'a'", "import 'a' as a", "with", "endwith", "filter upper",
    "endfilter", "break", "continue", "do", "trans", "system:", "user:", "assistant:",
    "# user:", "user[name=\"x\"]:", "\nsystem:\n", "\nuser:\n", "\nassistant:\n",
]  # fmt: skip

YAML = [
    "prompts:", "providers:", "tests:", "vars:", "assert:", "defaultTest:", "description:",
    "- ", "  ", "    ", "id:", "label:", "config:", "temperature:", "max_tokens:",
    "type: contains", "value:", "openai:chat:gpt-4o", "anthropic:messages:claude",
    "openai:responses:o4", "ollama:chat:llama", "http://127.0.0.1:1/v1", "apiBaseUrl:",
    "response_format:", "json_schema", "file://prompt.txt", "file://vars.yaml",
    "file://cases.csv", "file://../x", "file:///etc/hostname", "file://*.txt", "role:",
    "content:", "system", "user", "{", "}", "[", "]", "&a", "*a", "<<: *a", "!!str",
    "!!binary", "!!python/object:os.system", "!!set", "? ", ": ", "|", ">", "---",
    "...", "%YAML 1.1", "null", "~", "1e999", ".nan", "-.inf", "0x1F", "0o17",
    "2026-01-01", "12:30:00", "true", "yes", "on", "'", '"', "{{ x }}", "\n",
    "model:", "api:", "inputs:", "sample:", "kind: thread", "parameters:", "connection:",
    "name:", "version:", "authors:", "tags:", "template:", "format: jinja2",
    "configuration:", "options:", "expected:", "threshold:", "metadata:",
    "__expected", "__description", "stop:", "seed:", "top_p:", "9" * 30,
]  # fmt: skip

JSON = [
    "{", "}", "[", "]", ",", ":", '"', "\\u0000", "\\ud800", "\\", "null", "true", "false",
    "1", "-0", "1e400", "NaN", "Infinity", "9" * 40, '"format"', '"promptstudio"',
    '"version"', '"name"', '"template"', '"variables"', '"columns"', '"params"',
    '"model"', '"base_url"', '"tests"', '"cases"', '"vars"', '"assert"', '"expected"',
    '"description"', '"history"', '"versions"', '"tags"', '"folder"', '"temperature"',
    '"max_tokens"', '"type"', '"value"', '"api_key"', '"settings"', '"kind"', "\n", " ",
]  # fmt: skip

MARKDOWN = [
    *JINJA[:30],
    "# ", "## ", "### ", "```", "```jinja", "```json", "```yaml", "~~~", "\n", "    ",
    "Template", "Variables", "Columns", "Test cases", "Description", "Tags", "Folder",
    "<!--", "-->", "promptstudio:", "exact", "- ", "* ", "> ", "|", "---", "**", "`",
]  # fmt: skip

CSV = [
    ",", '"', '""', "\n", "\r\n", "\r", "__description", "__expected", "__expected1",
    "__expected2", "__expected9", "contains: x", "is-json", "equals: y", "regex: (",
    "javascript: 1", "python: x", "file://a", "=1+1", "+1", "-1", "@x", "\t", "name",
    "city", "x", "{\"type\": \"contains\", \"value\": 1}", "max-length: 5", "llm-rubric: ok",
    "latency: 5", "cost: 0.1", "not-contains: z", "icontains:", "starts-with: a",
]  # fmt: skip

JSONL = [*JSON, "\n", "\r\n"]


def soup(tokens: list[str], max_size: int = 60) -> st.SearchStrategy[str]:
    """Text made of ``tokens``, awkward characters and bits of arbitrary text."""
    piece = st.one_of(
        st.sampled_from(tokens),
        st.sampled_from(AWKWARD),
        st.text(max_size=8),
    )
    return st.lists(piece, max_size=max_size).map("".join)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str], tokens: list[str]) -> str:
    """A valid text with a few random edits: cut, insert a token, repeat or replace."""
    text = draw(base)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 40)))
        op = draw(st.sampled_from(["cut", "insert", "repeat", "replace", "swapcase"]))
        token = draw(st.one_of(st.sampled_from(tokens), st.sampled_from(AWKWARD)))
        if op == "cut":
            text = text[:at] + text[end:]
        elif op == "insert":
            text = text[:at] + token + text[at:]
        elif op == "repeat":
            text = text[:end] + text[at:end] * draw(st.integers(1, 4)) + text[end:]
        elif op == "replace":
            text = text[:at] + token + text[end:]
        else:
            text = text[:at] + text[at:end].swapcase() + text[end:]
    return text


def as_bytes(text: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Text encoded as UTF-8 (sometimes with a BOM), or with a byte spoilt, or raw bytes."""
    encoded = text.map(lambda t: t.encode("utf-8", "surrogatepass"))
    with_bom = encoded.map(lambda b: b"\xef\xbb\xbf" + b)
    spoilt = st.tuples(encoded, st.integers(0, 255), st.integers(0, 10**6)).map(
        lambda t: t[0][: t[2] % (len(t[0]) + 1)] + bytes([t[1]]) + t[0][t[2] % (len(t[0]) + 1) :]
    )
    return st.one_of(encoded, encoded, with_bom, spoilt, st.binary(max_size=200))


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=10),
    _containers,
    max_leaves=12,
)


def typed_or_success(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call``'s result, or None when it raised one of the project's typed errors.

    Anything else (a KeyError, a RecursionError, a UnicodeError...) propagates and fails
    the test: bad input must come back as a message, never as a traceback.
    """
    try:
        return call(*args, **kwargs)
    except PromptStudioError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return None


def first_failure(calls: Iterable[Callable[[], Any]]) -> PromptStudioError | None:
    """Run ``calls`` in order; the first typed error stops them and is returned."""
    for call in calls:
        try:
            call()
        except PromptStudioError as exc:
            return exc
    return None


# Field names each format reads, so random documents hit the code behind every field.
FIELDS = sorted(
    {
        # promptfoo
        "apiBaseUrl", "assert", "budget_tokens", "config", "content", "defaultTest",
        "description", "enabled", "expected", "id", "label", "metadata", "name", "prompts",
        "providers", "raw", "response_format", "role", "schema", "stop", "stop_sequences",
        "tests", "thinking", "thinking_budget", "type", "vars", "value", "threshold",
        # prompty
        "model", "inputs", "sample", "configuration", "connection", "parameters", "api",
        "apiType", "azure_deployment", "azure_endpoint", "base_url", "column", "default",
        "endpoint", "example", "folder", "format", "kind", "items", "max_tokens",
        "maxOutputTokens", "moreColumns", "options", "parser", "profile", "provider",
        "seed", "stopSequences", "tags", "temperature", "template", "topK", "topP", "top_p",
        "frequencyPenalty", "presencePenalty", "reasoningEffort", "additionalProperties",
        "authors", "version",
        # PromptStudio JSON
        "format_version", "variables", "columns", "cases", "params", "versions", "number",
        "settings", "message", "created_at",
    }
)  # fmt: skip
VALUES_SEEN = [
    "openai:chat:gpt-4o", "anthropic:messages:claude-3", "openai:responses:o4-mini",
    "ollama:chat:llama3", "http://127.0.0.1:1/v1", "file://prompt.txt", "file://vars.yaml",
    "file://cases.csv", "file://../outside", "user", "system", "assistant", "contains",
    "is-json", "llm-rubric", "json_schema", "json_object", "chat", "openai", "anthropic",
    "{{ x }}", "user:\n{{ x }}", "string", "integer", "array", "object", "thread",
]  # fmt: skip


def _shaped_children(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(FIELDS) | st.text(max_size=4), inner, max_size=5
    )


SHAPED = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False)
    | st.sampled_from(VALUES_SEEN)
    | st.text(max_size=8),
    _shaped_children,
    max_leaves=25,
)
"""Documents of the formats' own field names with values of every type, at any depth."""
