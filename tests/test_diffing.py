"""The diff engine: rows, word spans, statistics, odd input and the large-input fallback."""

from __future__ import annotations

import itertools
import random

import pytest

from promptstudio.diffing import (
    DiffRow,
    DiffStats,
    Span,
    diff_lines,
    diff_words,
    split_lines,
    summarize,
    tokenize,
)


def _cut(text: str, spans: tuple[Span, ...]) -> list[str]:
    return [text[span.start : span.end] for span in spans]


def _check_sides(rows: list[DiffRow], old: str, new: str) -> None:
    """Each side of the rows, read top to bottom, is exactly its text, numbered from 1."""
    old_rows = [row for row in rows if row.old_line is not None]
    new_rows = [row for row in rows if row.new_line is not None]
    assert [row.old_text for row in old_rows] == split_lines(old)
    assert [row.new_text for row in new_rows] == split_lines(new)
    assert [row.old_line for row in old_rows] == list(range(1, len(old_rows) + 1))
    assert [row.new_line for row in new_rows] == list(range(1, len(new_rows) + 1))
    for row in rows:
        assert (row.kind == "insert") == (row.old_line is None)
        assert (row.kind == "delete") == (row.new_line is None)
        if row.old_line is not None and row.new_line is not None:
            assert (row.kind == "equal") == (row.old_text == row.new_text)


def test_identical_texts_give_equal_rows_only() -> None:
    text = "system:\nYou are terse.\nuser:\n{{ question }}"
    rows = diff_lines(text, text)
    assert [row.kind for row in rows] == ["equal"] * 4
    assert rows[1] == DiffRow("equal", 2, 2, "You are terse.", "You are terse.")
    assert summarize(rows) == DiffStats(0, 0, 0)
    assert rows.fallback is None


@pytest.mark.parametrize(
    ("old", "new", "kinds"),
    [
        ("b\nc", "a\nb\nc", ["insert", "equal", "equal"]),
        ("a\nc", "a\nb\nc", ["equal", "insert", "equal"]),
        ("a\nb", "a\nb\nc", ["equal", "equal", "insert"]),
        ("a\nb\nc", "b\nc", ["delete", "equal", "equal"]),
        ("a\nb\nc", "a\nc", ["equal", "delete", "equal"]),
        ("a\nb\nc", "a\nb", ["equal", "equal", "delete"]),
    ],
    ids=[
        "insert-start",
        "insert-middle",
        "insert-end",
        "delete-start",
        "delete-middle",
        "delete-end",
    ],
)
def test_pure_insert_and_delete(old: str, new: str, kinds: list[str]) -> None:
    rows = diff_lines(old, new)
    assert [row.kind for row in rows] == kinds
    _check_sides(rows, old, new)
    changed = next(row for row in rows if row.kind != "equal")
    assert changed.old_spans == changed.new_spans == ()
    added, removed = kinds.count("insert"), kinds.count("delete")
    assert summarize(rows) == DiffStats(added, removed, 0)


def test_a_changed_word_gets_a_span_exactly_around_it() -> None:
    rows = diff_lines("Answer in a friendly tone.", "Answer in a formal tone.")
    (row,) = rows
    assert row.kind == "replace"
    assert row.old_spans == (Span(12, 20),)
    assert row.new_spans == (Span(12, 18),)
    assert _cut(row.old_text, row.old_spans) == ["friendly"]
    assert _cut(row.new_text, row.new_spans) == ["formal"]


def test_punctuation_is_its_own_token() -> None:
    (row,) = diff_lines("Be brief.", "Be brief!")
    assert _cut(row.old_text, row.old_spans) == ["."]
    assert _cut(row.new_text, row.new_spans) == ["!"]


def test_adjacent_replaced_words_read_as_one_phrase() -> None:
    (row,) = diff_lines("the quick brown fox", "the slow red fox")
    assert _cut(row.old_text, row.old_spans) == ["quick brown"]
    assert _cut(row.new_text, row.new_spans) == ["slow red"]


def test_multiline_replace_pairs_lines_then_inserts_the_rest() -> None:
    old = "system:\nBe short.\nuser:\nHi"
    new = "system:\nBe very short.\nNo lists.\nNo code.\nuser:\nHi"
    rows = diff_lines(old, new)
    assert [row.kind for row in rows] == [
        "equal",
        "replace",
        "insert",
        "insert",
        "equal",
        "equal",
    ]
    assert _cut(rows[1].new_text, rows[1].new_spans) == ["very "]
    assert rows[1].old_spans == ()
    assert (rows[2].old_line, rows[2].new_line) == (None, 3)
    assert summarize(rows) == DiffStats(added=2, removed=0, changed=1)
    _check_sides(rows, old, new)


def test_multiline_replace_with_fewer_new_lines_deletes_the_rest() -> None:
    old = "a\none two\nthree four\nfive six\nz"
    new = "a\none 2\nz"
    rows = diff_lines(old, new)
    assert [row.kind for row in rows] == ["equal", "replace", "delete", "delete", "equal"]
    assert rows[1].old_line == rows[1].new_line == 2
    assert [row.old_line for row in rows[2:4]] == [3, 4]
    assert summarize(rows) == DiffStats(added=0, removed=2, changed=1)
    _check_sides(rows, old, new)


def test_unicode_positions_are_python_characters() -> None:
    (row,) = diff_lines("Reply 👍 in 日本語 please", "Reply 🎉 in 日本人 please")
    assert _cut(row.old_text, row.old_spans) == ["👍", "語"]
    assert _cut(row.new_text, row.new_spans) == ["🎉", "人"]
    assert row.old_spans[0] == Span(6, 7)  # one character, though two UTF-16 units


def test_an_emoji_sequence_is_one_token() -> None:
    family = "👨\u200d👩\u200d👧"
    assert tokenize(f"hi {family}👍🏽!🇫🇷🇩🇪") == ["hi", " ", family, "👍🏽", "!", "🇫🇷", "🇩🇪"]
    (row,) = diff_lines(f"a {family} b", "a 👨\u200d👩\u200d👦 b")
    assert row.old_spans == (Span(2, 2 + len(family)),)


def test_tokens_always_join_back_to_the_text() -> None:
    text = "Café\u0301 naïve — «quote» 中文abc 𝔘𝔫𝔦 \t\n x_y 3.14 e\u0301"
    assert "".join(tokenize(text)) == text


def test_crlf_and_lf_compare_equal() -> None:
    rows = diff_lines("a\r\nb\r\nc", "a\nb\nc")
    assert [row.kind for row in rows] == ["equal"] * 3
    assert rows[0].old_text == "a"
    assert [row.kind for row in diff_lines("a\rb", "a\nb")] == ["equal", "equal"]
    assert diff_words("one\r\ntwo", "one\ntwo").old_spans == ()


def test_empty_inputs() -> None:
    assert diff_lines("", "") == []
    assert [(r.kind, r.new_line) for r in diff_lines("", "a\nb")] == [("insert", 1), ("insert", 2)]
    assert [(r.kind, r.old_line) for r in diff_lines("a", "")] == [("delete", 1)]
    both_empty = diff_words("", "")
    assert both_empty.similarity == 1.0 and both_empty.old_spans == both_empty.new_spans == ()
    only_new = diff_words("", "hello there")
    assert only_new.similarity == 0.0
    assert only_new.new_spans == (Span(0, 11),) and only_new.old_spans == ()


def test_a_trailing_newline_is_an_empty_last_line() -> None:
    rows = diff_lines("a", "a\n")
    assert [(row.kind, row.new_line, row.new_text) for row in rows] == [
        ("equal", 1, "a"),
        ("insert", 2, ""),
    ]


def test_diff_words_marks_removed_and_inserted_words() -> None:
    old = "The capital of France is Paris. It is large."
    new = "The capital of France is Paris, a large city."
    result = diff_words(old, new)
    assert _cut(old, result.old_spans) == [". It is"]
    assert _cut(new, result.new_spans) == [", a", " city"]
    assert len(result.changes) == 2
    city = new.index(" city")
    assert result.changes[1] == (Span(len(old) - 1, len(old) - 1), Span(city, city + 5))
    assert 0.6 < result.similarity < 1.0
    assert result.fallback is None


def test_diff_words_of_identical_texts() -> None:
    result = diff_words("same text", "same text")
    assert result.similarity == 1.0
    assert result.old_spans == result.new_spans == result.changes == ()


def test_a_large_input_falls_back_to_line_level_and_says_so() -> None:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "user:", "{{ x }}", ""]
    old_lines = [" ".join(rng.choices(words, k=rng.randint(0, 8))) for _ in range(20_000)]
    new_lines = [
        f"{line} changed" if number % 7 == 0 else line for number, line in enumerate(old_lines)
    ]
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    rows = diff_lines(old, new)
    assert rows.fallback is not None and "20,000 lines" in rows.fallback
    assert all(row.old_spans == row.new_spans == () for row in rows)
    assert summarize(rows).changed >= 20_000 // 7
    _check_sides(rows, old, new)


def test_a_small_change_in_a_large_input_keeps_word_highlights() -> None:
    """Only the differing middle counts towards the budget."""
    lines = [f"line {n}" for n in range(20_000)]
    changed = lines.copy()
    changed[10_000] = "line ten thousand"
    rows = diff_lines("\n".join(lines), "\n".join(changed))
    assert rows.fallback is None
    (row,) = [row for row in rows if row.kind != "equal"]
    assert _cut(row.new_text, row.new_spans) == ["ten thousand"]


def test_long_free_texts_fall_back_to_lines_and_say_so() -> None:
    rng = random.Random(3)
    vocabulary = [f"w{n}" for n in range(500)]

    def paragraph() -> str:
        return " ".join(rng.choices(vocabulary, k=40))

    old = "\n".join(paragraph() for _ in range(700))
    new = "\n".join(paragraph() for _ in range(700))
    result = diff_words(old, new)
    assert result.fallback is not None and "line by line" in result.fallback
    for span in result.old_spans:  # whole lines, newline included
        assert span.start == 0 or old[span.start - 1] == "\n"


def test_every_other_line_changed_is_matched_exactly() -> None:
    """The case that makes plain SequenceMatcher quadratic: unique lines cut it into pieces."""
    old_lines = [f"line {n}" for n in range(3_000)]
    new_lines = [line if n % 2 == 0 else f"line {n} edited" for n, line in enumerate(old_lines)]
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    rows = diff_lines(old, new)
    assert rows.fallback is None
    assert [row.kind for row in rows[:4]] == ["equal", "replace", "equal", "replace"]
    assert summarize(rows) == DiffStats(added=0, removed=0, changed=1_500)
    assert _cut(rows[1].new_text, rows[1].new_spans) == [" edited"]
    _check_sides(rows, old, new)


def test_a_long_run_without_any_unique_line_is_matched_piecewise() -> None:
    old_lines = ["x", "y"] * 600
    new_lines = ["x"] * 600 + ["y"] * 600
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    rows = diff_lines(old, new)
    assert rows.fallback is not None and "piecewise" in rows.fallback
    _check_sides(rows, old, new)
    words = diff_words(" ".join(old_lines), " ".join(new_lines))
    assert words.fallback is not None and "piecewise" in words.fallback
    assert _rebuild(" ".join(old_lines), " ".join(new_lines), words.changes) == " ".join(new_lines)


@pytest.mark.parametrize("seed", range(10))
def test_random_large_texts_reconstruct_both_sides(seed: int) -> None:
    """Big enough to be cut at unique lines and words before exact matching."""
    rng = random.Random(1_000 + seed)
    pool = [f"shared line {n}" for n in range(300)] + ["", "user:", "---"] * 20

    def text() -> str:
        return "\n".join(rng.choice(pool) for _ in range(rng.randint(300, 600)))

    old, new = text(), text()
    _check_sides(diff_lines(old, new), old, new)
    words = diff_words(old, new)
    assert _rebuild(old, new, words.changes) == new


@pytest.mark.parametrize("seed", range(50))
def test_random_texts_reconstruct_both_sides(seed: int) -> None:
    rng = random.Random(seed)
    pool = ["user:", "system:", "Be brief.", "", "{{ q }}", "ok 👍", "日本語です", "a b c"]

    def text() -> str:
        lines = [rng.choice(pool) if rng.random() < 0.6 else _noise(rng) for _ in range(20)]
        return ("\r\n" if rng.random() < 0.2 else "\n").join(lines[: rng.randint(0, 20)])

    old, new = text(), text()
    rows = diff_lines(old, new)
    _check_sides(rows, old, new)
    for row in rows:
        if row.kind != "replace":
            assert row.old_spans == row.new_spans == ()
        for spans, line in ((row.old_spans, row.old_text), (row.new_spans, row.new_text)):
            assert all(0 <= s.start < s.end <= len(line) for s in spans)
            assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    stats = summarize(rows)
    assert stats.added - stats.removed == len(split_lines(new)) - len(split_lines(old))

    words = diff_words(old, new)
    assert _rebuild(old.replace("\r\n", "\n"), new.replace("\r\n", "\n"), words.changes) == (
        new.replace("\r\n", "\n")
    )
    assert 0.0 <= words.similarity <= 1.0


def _noise(rng: random.Random) -> str:
    alphabet = "abc xyz.,!日😀\t"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))


def _rebuild(old: str, new: str, changes: tuple[tuple[Span, Span], ...]) -> str:
    """Apply the word changes to the old text: each old range becomes its new range."""
    out, at = [], 0
    for old_range, new_range in changes:
        out.append(old[at : old_range.start])
        out.append(new[new_range.start : new_range.end])
        at = old_range.end
    out.append(old[at:])
    return "".join(out)
