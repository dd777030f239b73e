"""Long paragraphs are shown in pieces; the answer itself stays exact."""

from __future__ import annotations

import random

from promptstudio.ui.run_column import DISPLAY_PARAGRAPH, display_pieces


def test_short_text_is_untouched() -> None:
    assert display_pieces("hello world") == "hello world"
    assert display_pieces("a\nb\n") == "a\nb\n"


def test_one_long_paragraph_is_broken_after_whitespace_only() -> None:
    text = " ".join(f"word{i}" for i in range(3000))
    shown = display_pieces(text)
    assert shown.replace("\n", "") == text
    assert all(len(line) <= DISPLAY_PARAGRAPH + 12 for line in shown.split("\n"))
    assert all(line.endswith(" ") for line in shown.split("\n")[:-1])


def test_pieces_continue_across_appends() -> None:
    rng = random.Random(7)
    words = [f"w{rng.randint(0, 10**6)}" for _ in range(5000)]
    text = " ".join(words)
    shown, open_length = "", 0
    position = 0
    while position < len(text):
        step = rng.randint(1, 400)
        piece = display_pieces(text[position : position + step], open_length)
        shown += piece
        open_length = len(shown) - (shown.rfind("\n") + 1)
        position += step
    assert shown.replace("\n", "") == text
    assert max(len(line) for line in shown.split("\n")) <= DISPLAY_PARAGRAPH + 10


def test_a_word_longer_than_a_piece_is_not_split() -> None:
    word = "x" * (DISPLAY_PARAGRAPH * 2)
    assert display_pieces(word) == word
    assert display_pieces(f"{word} tail") == f"{word} \ntail"  # the break waits for a space


def test_existing_line_breaks_reset_the_length() -> None:
    text = ("a " * 900 + "\n") * 3
    assert display_pieces(text) == text
