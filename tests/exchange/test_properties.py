"""Property tests: any template survives a round trip through JSON and .prompty."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from promptstudio.exchange import (
    PromptDocument,
    from_json,
    from_prompty,
    to_json,
    to_promptfoo,
    to_prompty,
)
from promptstudio.exchange.document import column_from_dict

# Text with the characters that break naive exporters: fences, Jinja, quotes, role-marker
# lines, YAML indicators, line separators and wide Unicode. NUL is left out: a file holding
# it is refused on import as binary.
TRICKY = st.sampled_from(
    [
        "---",
        "\n---\n",
        "{{",
        "}}",
        "{%",
        "'",
        '"',
        "\nsystem:\n",
        "user:",
        "\r\n",
        "\r",
        ": ",
        "- ",
        "#",
        "\u2028",
        "\x85",
        "\t",
        "😀",
        "ß",
        "\ufeff",
        "...",
        "&a",
        "*a",
        "!!str",
    ]
)
TEXT = st.lists(
    st.one_of(TRICKY, st.text(alphabet=st.characters(blacklist_characters="\x00"))), max_size=12
).map("".join)
VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)
DOCS = st.builds(
    PromptDocument,
    name=TEXT,
    description=TEXT,
    folder=TEXT,
    tags=st.lists(TEXT, max_size=3),
    template=TEXT,
    variables=st.dictionaries(TEXT, VALUE, max_size=4),
    columns=st.lists(
        st.fixed_dictionaries(
            {
                "id": TEXT,
                "profile": TEXT,
                "base_url": TEXT,
                "model": TEXT,
                "params": st.fixed_dictionaries(
                    {},
                    optional={
                        "temperature": st.floats(0, 2),
                        "max_tokens": st.integers(1, 10**6),
                        "stop": st.lists(TEXT, max_size=2),
                        "seed": st.integers(0, 2**31 - 1),
                    },
                ),
            }
        ).map(column_from_dict),
        max_size=3,
    ),
)


@settings(max_examples=150, deadline=None, database=None)
@given(DOCS)
def test_json_round_trip(doc: PromptDocument) -> None:
    assert from_json(to_json(doc)) == doc


@settings(max_examples=150, deadline=None, database=None)
@given(DOCS)
def test_prompty_round_trip(doc: PromptDocument) -> None:
    back = from_prompty(to_prompty(doc))
    assert back.template == doc.template
    assert back.variables == doc.variables
    assert [(c.model, c.params) for c in back.columns] == [(c.model, c.params) for c in doc.columns]
    assert (back.description, back.folder, back.tags) == (doc.description, doc.folder, doc.tags)


@settings(max_examples=100, deadline=None, database=None)
@given(DOCS)
def test_promptfoo_config_always_parses(doc: PromptDocument) -> None:
    config = yaml.safe_load(to_promptfoo(doc))
    assert set(config) <= {"description", "prompts", "providers", "tests", "defaultTest"}
    [test] = config["tests"]
    assert test["vars"] == doc.variables
    assert set(test) <= {"vars", "options"}  # options: a list of texts stays one value
    assert len(config["providers"]) == len(doc.columns)
