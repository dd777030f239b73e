"""Markdown exports read back exactly; other Markdown imports as a template."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from promptstudio.exchange import ExchangeError, PromptDocument, from_markdown, to_markdown
from tests.exchange.samples import sample_document
from tests.exchange.test_promptfoo_import import DOCS_WITH_CASES


def test_the_sample_reads_back_exactly() -> None:
    doc = sample_document()
    assert from_markdown(to_markdown(doc).encode()) == doc


def test_what_the_page_cannot_show_travels_in_one_hidden_comment() -> None:
    doc = PromptDocument(
        name="Two\nlines",
        description="\n  indented, after a blank line",
        folder="a  b",
        tags=["with `tick`", "x, y"],
        template="user:\nno final newline",
    )
    text = to_markdown(doc)
    title, comment, *_ = text.split("\n")
    assert title == "# Two lines"
    assert comment.startswith("<!-- promptstudio {") and comment.endswith("} -->")
    assert text.count("-->") == 1
    assert from_markdown(text) == doc


def test_a_description_that_looks_like_our_sections_is_kept_apart() -> None:
    fake = '## Variables\n\n```json\n{"planted": true}\n```\n\n- **Folder:** nope'
    doc = PromptDocument(name="n", description=fake, template="user:\nhi\n")
    assert from_markdown(to_markdown(doc)) == doc


def test_a_description_ending_in_a_broken_variables_section_still_exports() -> None:
    fake = "Example:\n\n## Variables\n\n```json\n{not json\n```"
    doc = PromptDocument(name="n", description=fake, template="user:\nhi\n")
    text = to_markdown(doc)
    assert text.count("## Variables") == 2
    assert from_markdown(text) == doc


def test_edits_to_the_visible_text_are_read() -> None:
    text = to_markdown(sample_document())
    text = text.replace("# Summariser", "# Summary bot").replace("`demo`", "`demo`, `new`")
    text = text.replace('"tone": "friendly"', '"tone": "stern"', 1)
    doc = from_markdown(text)
    assert doc.name == "Summary bot"
    assert doc.tags == ["summary", "demo", "new"]
    assert doc.variables["tone"] == "stern"


def test_a_file_saved_with_crlf_line_ends_reads_the_same() -> None:
    doc = sample_document()
    assert from_markdown(to_markdown(doc).replace("\n", "\r\n")) == doc


def test_an_export_from_before_models_and_cases_still_reads() -> None:
    old = (
        "# Greeter\n\nSays hello.\n\n- **Folder:** misc\n- **Tags:** `a`, `b`\n"
        "- **Model:** `gpt-4o-mini` (openai): temperature=0.2\n\n"
        '## Variables\n\n```json\n{\n  "who": "Ada"\n}\n```\n\n'
        "## Template\n\n```jinja\nuser:\nHello {{ who }}\n```\n"
    )
    assert from_markdown(old) == PromptDocument(
        name="Greeter",
        description="Says hello.",
        folder="misc",
        tags=["a", "b"],
        template="user:\nHello {{ who }}\n",
        variables={"who": "Ada"},
    )


@pytest.mark.parametrize(
    "text",
    [
        "# Notes\n\nJust some Markdown.\n\n```python\nprint('hi')\n```\n",
        "## Template\n\nno fence here\n",
        "user:\nHello {{ name }}",
        "",
    ],
)
def test_other_markdown_is_the_template(text: str) -> None:
    doc = from_markdown(text.encode(), name="notes")
    assert doc == PromptDocument(name="notes", template=text)


def test_a_page_without_a_title_takes_the_given_name() -> None:
    doc = from_markdown("## Template\n\n```jinja\nuser:\nhi\n```\n", name="greet")
    assert (doc.name, doc.template) == ("greet", "user:\nhi\n")


def test_broken_json_blocks_report_their_file_line() -> None:
    text = to_markdown(sample_document())
    broken = text.replace('"model": "llama3.2"', '"model": llama3.2')
    with pytest.raises(ExchangeError, match="'Models' section is not valid JSON") as caught:
        from_markdown(broken)
    assert caught.value.line == broken.split("\n").index('    "model": llama3.2,') + 1


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (('"vars": {', '"vars": ['), "Test cases"),
        (('{\n  "tone"', '[\n  "tone"'), "Variables"),
        (('"params": {\n      "top_k": 40\n    }', '"params": 40'), "params"),
    ],
)
def test_blocks_of_the_wrong_shape_are_refused(replace: tuple[str, str], message: str) -> None:
    text = to_markdown(sample_document()).replace(*replace, 1)
    with pytest.raises(ExchangeError, match=message):
        from_markdown(text)


def test_a_tampered_comment_is_refused_with_its_line() -> None:
    text = to_markdown(PromptDocument(name="a\nb", template="x"))
    with pytest.raises(ExchangeError, match="promptstudio comment") as caught:
        from_markdown(text.replace('"name": "a\\nb"', '"name": 3'))
    assert caught.value.line == 2
    with pytest.raises(ExchangeError, match="valid JSON") as caught:
        from_markdown(text.replace('{"name"', "{name"))
    assert caught.value.line == 2


@settings(max_examples=200, deadline=None, database=None)
@given(DOCS_WITH_CASES)
def test_markdown_round_trip_is_exact(doc: PromptDocument) -> None:
    text = to_markdown(doc)
    assert from_markdown(text) == doc
