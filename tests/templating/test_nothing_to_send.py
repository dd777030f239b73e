"""A template that renders to no messages is refused, like a template error."""

from __future__ import annotations

import pytest

from promptstudio.templating import NothingToSend, TemplateError, render_messages


@pytest.mark.parametrize(
    "source",
    ["", "   \n\t\n", "{% if false %}Hello{% endif %}", "{# a note #}", "system:\n\nuser:\n  \n",
     "{{ blank }}"],
)  # fmt: skip
def test_a_template_with_nothing_to_send_is_refused(source: str) -> None:
    with pytest.raises(NothingToSend) as caught:
        render_messages(source, {"blank": "  "})
    assert isinstance(caught.value, TemplateError)  # every caller of a template error gets it
    assert caught.value.message == "nothing to send: the template renders to no messages"


def test_whether_it_is_empty_depends_on_the_values() -> None:
    source = "{% if name %}Hello {{ name }}{% endif %}"
    assert render_messages(source, {"name": "Ada"})[0].content == "Hello Ada"
    with pytest.raises(NothingToSend):
        render_messages(source, {"name": ""})


def test_showing_or_exporting_may_allow_it() -> None:
    assert render_messages(" \n", {}, allow_empty=True) == []
