"""Role markers, in the source and in rendered output."""

from __future__ import annotations

from promptstudio.chat import Message
from promptstudio.templating import RoleMarker, render_messages, role_markers


def render(source: str, **values: object) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in render_messages(source, values)]


def test_no_marker_is_one_user_message() -> None:
    assert render_messages("Hello {{ who }}", {"who": "Ada"}) == [Message("user", "Hello Ada")]


def test_markers_split_messages_and_strip_blank_lines_only() -> None:
    source = "system:\n\n  Be brief.  \n\nuser:\n\n  first\n\n  second  \n\n"
    assert render(source) == [("system", "  Be brief.  "), ("user", "  first\n\n  second  ")]


def test_markers_are_case_insensitive_and_allow_surrounding_whitespace() -> None:
    source = "  SYSTEM:  \ns\n\tUser:\nu\nAssistant:\t\na"
    assert render(source) == [("system", "s"), ("user", "u"), ("assistant", "a")]


def test_marker_like_text_that_is_not_alone_on_its_line_is_content() -> None:
    source = "user: hello\nuser :\nsystem:x\nnote: system:"
    assert render(source) == [("user", source)]


def test_leading_text_becomes_a_user_message() -> None:
    assert render("Intro\nsystem:\nS") == [("user", "Intro"), ("system", "S")]


def test_whitespace_before_first_marker_is_dropped() -> None:
    assert render("\n   \n\t\nsystem:\nS") == [("system", "S")]


def test_empty_messages_are_dropped() -> None:
    assert render("system:\n\nuser:\n   \nassistant:\nA\nuser:") == [("assistant", "A")]
    assert render_messages("", {}, allow_empty=True) == []  # an empty one is refused


def test_same_role_twice_gives_two_messages() -> None:
    assert render("user:\na\nuser:\nb") == [("user", "a"), ("user", "b")]


def test_crlf_sources_split_like_lf() -> None:
    assert render("system:\r\nS\r\nuser:\rU\r\n") == [("system", "S"), ("user", "U")]


def test_markers_from_conditionals_are_honoured() -> None:
    source = "{% if formal %}system:\nBe formal.\n{% endif %}user:\nHi"
    assert render(source, formal=True) == [("system", "Be formal."), ("user", "Hi")]
    assert render(source, formal=False) == [("user", "Hi")]


def test_role_markers_lists_marker_lines() -> None:
    source = "intro\nSystem:\ntext {{ x }}\n  user:  \n{{ r }}:\nuser: hi\n{# user: #}\nassistant:"
    assert role_markers(source) == [
        RoleMarker("system", 2),
        RoleMarker("user", 4),
        RoleMarker("assistant", 8),
    ]


def test_role_markers_after_a_tag_on_the_same_line() -> None:
    source = (
        "{% for ex in examples %}user:\n{{ ex.q }}\nassistant:\n{{ ex.a }}\n{% endfor %}user:\n"
    )
    assert role_markers(source) == [
        RoleMarker("user", 1),
        RoleMarker("assistant", 3),
        RoleMarker("user", 5),
    ]


def test_role_markers_never_raise_on_broken_templates() -> None:
    assert role_markers("system:\n{{ x }\nuser:\n") == [
        RoleMarker("system", 1),
        RoleMarker("user", 3),
    ]
