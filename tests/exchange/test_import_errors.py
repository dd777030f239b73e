"""Bad files are refused whole, with a typed error and the line when it is known."""

from __future__ import annotations

import pytest

from promptstudio.errors import PromptStudioError
from promptstudio.exchange import (
    MAX_IMPORT_BYTES,
    ExchangeError,
    from_json,
    from_prompty,
    from_text,
)


def test_broken_front_matter_reports_the_file_line() -> None:
    text = "---\nname: ok\nmodel:\n  id: [unclosed\ninputs: []\n---\nuser:\nhi\n"
    with pytest.raises(ExchangeError) as caught:
        from_prompty(text)
    assert isinstance(caught.value, PromptStudioError)
    assert caught.value.line == 5  # where YAML notices, counting the opening '---'
    assert str(caught.value).startswith("Line 5:")


def test_bad_indentation_line() -> None:
    text = "---\nname: ok\n  bad: indent\n---\nbody"
    with pytest.raises(ExchangeError) as caught:
        from_prompty(text)
    assert caught.value.line == 3


def test_front_matter_must_close() -> None:
    # Without front matter the whole file is the body, as the Prompty runtime reads it.
    assert from_prompty("user:\nhi\n").template == "user:\nhi\n"
    with pytest.raises(ExchangeError, match="no closing"):
        from_prompty("---\nname: x\nuser:\nhi\n")


def test_front_matter_must_be_a_mapping() -> None:
    with pytest.raises(ExchangeError, match="mapping"):
        from_prompty("---\n- a\n- b\n---\nbody")


def test_invalid_json_reports_its_line() -> None:
    with pytest.raises(ExchangeError) as caught:
        from_json('{\n  "format_version": 1,\n  "name": "x",\n  oops\n}')
    assert caught.value.line == 4


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"format_version": 2, "name": "x", "template": ""}',
        '{"format_version": 1, "template": ""}',
        '{"format_version": 1, "name": "x", "template": "", "tags": "a"}',
        '{"format_version": 1, "name": "x", "template": "", "columns": [1]}',
        '{"format_version": 1, "name": "x", "template": "", "variables": []}',
    ],
)
def test_json_of_the_wrong_shape_is_refused(text: str) -> None:
    with pytest.raises(ExchangeError):
        from_json(text)


@pytest.mark.parametrize("read", [from_json, from_prompty, lambda data: from_text("a.txt", data)])
def test_binary_non_utf8_and_enormous_input_is_refused(read: object) -> None:
    assert callable(read)
    with pytest.raises(ExchangeError, match="binary") as caught:
        read(b"line one\nline two\x00\x01")
    assert caught.value.line == 2
    with pytest.raises(ExchangeError, match="UTF-8") as caught:
        read(b"ok\nok\n\xff\xfe bad")
    assert caught.value.line == 3
    with pytest.raises(ExchangeError, match="MB"):
        read(b"x" * (MAX_IMPORT_BYTES + 1))
    with pytest.raises(ExchangeError, match="MB"):
        read("é" * (MAX_IMPORT_BYTES // 2 + 1))


def test_a_utf8_bom_is_accepted() -> None:
    assert from_text("a.txt", "\ufeffuser:\nhi".encode()).template == "user:\nhi"


def test_yaml_aliases_are_refused_before_they_expand() -> None:
    laughs = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n---\n"
    with pytest.raises(ExchangeError, match="aliases") as caught:
        from_prompty(laughs)
    assert caught.value.line == 3
