"""``![alt](SOURCE)`` in a template becomes an image part of its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptstudio.chat import Image, Message, Text
from promptstudio.templating import ImageRefused, render_messages
from tests.images import GIF, data_url, png


def test_literal_and_variable_sources_become_parts_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png())
    template = "system:\nBe brief.\nuser:\nCompare ![first](a.png) with ![second]({{ photo }}).\n"
    [system, user] = render_messages(template, {"photo": data_url(GIF)}, base_dir=tmp_path)
    assert system == Message("system", "Be brief.")
    kinds = [type(part).__name__ for part in user.parts]
    assert kinds == ["Text", "Image", "Text", "Image", "Text"]
    first, second = user.images
    assert (first.alt, first.data, first.source) == ("first", png(), "a.png")
    assert (second.alt, second.media_type) == ("second", "image/gif")
    assert user.content == "Compare  with ."
    assert user.parts[0] == Text("Compare ")


def test_a_message_of_only_an_image_is_kept(tmp_path: Path) -> None:
    [message] = render_messages("![x]({{ p }})", {"p": data_url(png())})
    assert message.content == "" and isinstance(message.parts[0], Image)


def test_markup_inside_a_value_stays_text() -> None:
    value = "See ![logo](/etc/passwd) in the README"
    [message] = render_messages("Summarise: {{ doc }}", {"doc": value})
    assert message == Message("user", f"Summarise: {value}")


def test_a_refused_image_points_at_its_markup(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("text")
    with pytest.raises(ImageRefused, match="not a PNG") as caught:
        render_messages("Hello\n  ![n](notes.png)", {}, base_dir=tmp_path)
    assert (caught.value.line, caught.value.column) == (2, 3)
    with pytest.raises(ImageRefused, match="does not exist"):
        render_messages("![p]({{ p }})", {"p": "missing.png"}, base_dir=tmp_path)


def test_plain_templates_are_unchanged() -> None:
    assert render_messages("a ![b] (c) ![]()", {}) == [Message("user", "a ![b] (c) ![]()")]
