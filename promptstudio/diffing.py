"""Line and word diffs for comparing template versions and model answers.

Qt-free, so the CLI and tests can use it; ``ui.history.diff_view`` draws the result.

Matching uses :class:`difflib.SequenceMatcher` with ``autojunk=False`` on pieces small
enough for it. Its cost grows with the product of the sizes (every other line changed is
enough to make it quadratic), so larger inputs are first cut at lines (or words) that
occur once on each side, patience-diff style, and only the pieces between them are
matched exactly. Above a size threshold a diff is line-level only; the result says so in
``fallback``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Literal

RowKind = Literal["equal", "replace", "delete", "insert"]

EXACT_PRODUCT = 40_000
"""SequenceMatcher only sees pieces whose sizes multiply to at most this (~0.1 s at worst)."""
LINE_LEVEL_LINES = 12_000
"""Above this many differing lines (both sides together) a line diff has no word spans."""
PAIRING_CELLS = 2_500
"""Replaced blocks up to this many line pairs are paired by similarity, larger in order."""
MAX_WORD_CHARS = 2_000_000
"""Above this many characters in replaced lines, a line diff has no word spans either."""
LINE_LEVEL_TOKENS = 100_000
"""Above this many differing tokens, free texts are compared line by line."""

WINDOW = 100
"""A piece with nothing to cut at is matched in windows of this many items per side.

Repetitive input costs SequenceMatcher about the cube of the window, so this bounds the
worst case at about 10 ms per window."""

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_MODIFIERS = r"[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]*"
_TOKEN = re.compile(
    rf"[{_CJK}]"  # CJK has no spaces between words: one token per character
    rf"|(?:[^\W{_CJK}]|[\u0300-\u036f])+"  # a word, with any combining accents
    r"|\s+"
    r"|[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    rf"|[^\w\s]{_MODIFIERS}(?:\u200d[^\w\s]{_MODIFIERS})*"  # punctuation; a whole emoji
)


@dataclass(frozen=True, slots=True)
class Span:
    """Characters ``[start, end)`` of one line or text (Python string indices)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff; a line number is None on the side with no line.

    Line numbers start at 1. Spans mark the changed words of a "replace" row.
    """

    kind: RowKind
    old_line: int | None
    new_line: int | None
    old_text: str
    new_text: str
    old_spans: tuple[Span, ...] = ()
    new_spans: tuple[Span, ...] = ()


class LineDiff(list[DiffRow]):
    """The rows of :func:`diff_lines`; ``fallback`` says why they are coarser than usual."""

    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class WordDiff:
    """Removed spans in the old text, inserted spans in the new one, and their similarity.

    ``changes`` pairs them up in order, one (old, new) range per change; an empty range
    marks where the other side's text was removed or inserted.
    """

    old_spans: tuple[Span, ...]
    new_spans: tuple[Span, ...]
    similarity: float
    changes: tuple[tuple[Span, Span], ...] = ()
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class DiffStats:
    """Counts of added, removed and changed lines."""

    added: int
    removed: int
    changed: int


# (tag, old start, old end, new start, new end), as SequenceMatcher.get_opcodes() gives.
_Opcode = tuple[str, int, int, int, int]


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_lines(text: str) -> list[str]:
    """Lines as an editor shows them: "a\\n" is two lines, the empty text has none."""
    text = normalize_newlines(text)
    return text.split("\n") if text else []


def tokenize(text: str) -> list[str]:
    """Words, whitespace runs, punctuation and emoji; joined they give ``text`` back."""
    return _TOKEN.findall(text)


def diff_lines(old: str, new: str) -> LineDiff:
    """Side-by-side rows; replaced lines are paired one to one and get word spans."""
    a, b = split_lines(old), split_lines(new)
    opcodes, approximate = _align(a, b, _is_blank)
    line_level = _differing(a, b) > LINE_LEVEL_LINES
    rows = LineDiff()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            rows.extend(
                DiffRow("equal", i + 1, j + 1, a[i], b[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for i, j in _pair_lines(a, b, i1, i2, j1, j2, by_similarity=not line_level):
            if i is not None and j is not None:  # a blank line may meet its twin: it is junk
                kind: RowKind = "equal" if a[i] == b[j] else "replace"
                rows.append(DiffRow(kind, i + 1, j + 1, a[i], b[j]))
            elif i is not None:
                rows.append(DiffRow("delete", i + 1, None, a[i], ""))
            elif j is not None:
                rows.append(DiffRow("insert", None, j + 1, "", b[j]))
    notes = []
    if approximate:
        notes.append("long runs without a common line were matched piecewise")
    replaced = [n for n, row in enumerate(rows) if row.kind == "replace"]
    size = sum(len(rows[n].old_text) + len(rows[n].new_text) for n in replaced)
    if line_level or size > MAX_WORD_CHARS:
        notes.append("changed words are not highlighted")
    else:
        for n in replaced:
            old_spans, new_spans = _line_spans(rows[n].old_text, rows[n].new_text)
            rows[n] = replace(rows[n], old_spans=old_spans, new_spans=new_spans)
    if notes:
        rows.fallback = f"Large diff ({max(len(a), len(b)):,} lines): {'; '.join(notes)}."
    return rows


def diff_words(old: str, new: str) -> WordDiff:
    """Word-level diff of two free texts, such as two models' answers to one prompt."""
    old, new = normalize_newlines(old), normalize_newlines(new)
    a, b = tokenize(old), tokenize(new)
    notes = []
    if _differing(a, b) > LINE_LEVEL_TOKENS:
        a, b = _keep_ends(old.split("\n")), _keep_ends(new.split("\n"))
        notes.append("compared line by line")
        opcodes, approximate = _align(a, b, _is_blank)
    else:
        opcodes, approximate = _align(a, b, str.isspace)
    if approximate:
        notes.append("long runs without a common word were matched piecewise")
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    similarity = 2.0 * matched / (len(a) + len(b)) if a or b else 1.0
    changes = _merge_whitespace(_to_chars(opcodes, a, b), old)
    return WordDiff(
        old_spans=tuple(Span(i1, i2) for _, i1, i2, _, _ in changes if i2 > i1),
        new_spans=tuple(Span(j1, j2) for _, _, _, j1, j2 in changes if j2 > j1),
        similarity=similarity,
        changes=tuple((Span(i1, i2), Span(j1, j2)) for _, i1, i2, j1, j2 in changes),
        fallback=f"Long texts: {'; '.join(notes)}." if notes else None,
    )


def summarize(rows: Iterable[DiffRow]) -> DiffStats:
    added = removed = changed = 0
    for row in rows:
        if row.kind == "insert":
            added += 1
        elif row.kind == "delete":
            removed += 1
        elif row.kind == "replace":
            changed += 1
    return DiffStats(added, removed, changed)


def _pair_lines(
    a: Sequence[str], b: Sequence[str], i1: int, i2: int, j1: int, j2: int, *, by_similarity: bool
) -> list[tuple[int | None, int | None]]:
    """Rows for a replaced block: similar lines side by side, the rest paired in order.

    Lines sharing at least half their words are matched first (the best in-order set), so
    a line inserted above an edited one does not push every pairing off by one. Between
    those, leftover lines pair up in order and the surplus becomes deletions/insertions.
    """
    anchors: list[tuple[int, int]] = []
    if by_similarity and (i2 - i1) * (j2 - j1) <= PAIRING_CELLS:
        anchors = _similar_pairs(a[i1:i2], b[j1:j2])
    rows: list[tuple[int | None, int | None]] = []
    i, j = i1, j1
    for ai, bj in [*((i1 + x, j1 + y) for x, y in anchors), (i2, j2)]:
        paired = min(ai - i, bj - j)
        rows.extend(zip(range(i, i + paired), range(j, j + paired), strict=True))
        rows.extend((x, None) for x in range(i + paired, ai))
        rows.extend((None, y) for y in range(j + paired, bj))
        if ai < i2:
            rows.append((ai, bj))
        i, j = ai + 1, bj + 1
    return rows


def _similar_pairs(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """The in-order pairs of similar lines with the largest total similarity."""
    words_a = [Counter(t for t in tokenize(line) if not t.isspace()) for line in a]
    words_b = [Counter(t for t in tokenize(line) if not t.isspace()) for line in b]
    sizes_a = [sum(c.values()) for c in words_a]
    sizes_b = [sum(c.values()) for c in words_b]
    # best[x][y]: the best total for a[:x] and b[:y]
    best = [[0.0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for x in range(1, len(a) + 1):
        row, above = best[x], best[x - 1]
        for y in range(1, len(b) + 1):
            score = max(above[y], row[y - 1])
            size = sizes_a[x - 1] + sizes_b[y - 1]
            if a[x - 1] == b[y - 1]:
                similarity = 1.0
            elif size:
                similarity = 2 * sum((words_a[x - 1] & words_b[y - 1]).values()) / size
            else:
                similarity = 0.0
            if similarity >= 0.5:
                score = max(score, above[y - 1] + similarity)
            row[y] = score
    pairs: list[tuple[int, int]] = []
    x, y = len(a), len(b)
    while x and y:
        if best[x][y] == best[x - 1][y]:
            x -= 1
        elif best[x][y] == best[x][y - 1]:
            y -= 1
        else:
            pairs.append((x - 1, y - 1))
            x, y = x - 1, y - 1
    return pairs[::-1]


def _line_spans(old: str, new: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    a, b = tokenize(old), tokenize(new)
    opcodes, _ = _align(a, b, str.isspace)
    changes = _merge_whitespace(_to_chars(opcodes, a, b), old)
    return (
        tuple(Span(i1, i2) for _, i1, i2, _, _ in changes if i2 > i1),
        tuple(Span(j1, j2) for _, _, _, j1, j2 in changes if j2 > j1),
    )


def _is_blank(line: str) -> bool:
    return not line.strip()


def _differing(a: Sequence[str], b: Sequence[str]) -> int:
    """How many items of both sides lie between the common head and tail."""
    head, tail = _common_ends(a, b, 0, len(a), 0, len(b))
    return len(a) + len(b) - 2 * (head + tail)


def _common_ends(
    a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int
) -> tuple[int, int]:
    limit = min(ahi - alo, bhi - blo)
    head = 0
    while head < limit and a[alo + head] == b[blo + head]:
        head += 1
    tail = 0
    while tail < limit - head and a[ahi - 1 - tail] == b[bhi - 1 - tail]:
        tail += 1
    return head, tail


def _align(
    a: Sequence[str], b: Sequence[str], is_junk: Callable[[str], bool]
) -> tuple[list[_Opcode], bool]:
    """Opcodes turning ``a`` into ``b``; True if some piece was only matched in windows.

    Junk (blank lines, whitespace) never starts a match, only extends one: matching every
    space against every other space costs the most and finds nothing useful.
    """
    blocks: list[tuple[int, int, int]] = []  # (i, j, size): a[i:i+size] == b[j:j+size]
    approximate = False
    pieces = [(0, len(a), 0, len(b))]
    while pieces:
        alo, ahi, blo, bhi = pieces.pop()
        head, tail = _common_ends(a, b, alo, ahi, blo, bhi)
        if head:
            blocks.append((alo, blo, head))
        if tail:
            blocks.append((ahi - tail, bhi - tail, tail))
        alo, blo, ahi, bhi = alo + head, blo + head, ahi - tail, bhi - tail
        if alo == ahi or blo == bhi:
            continue
        if (ahi - alo) * (bhi - blo) <= EXACT_PRODUCT:
            matcher = SequenceMatcher(is_junk, a[alo:ahi], b[blo:bhi], autojunk=False)
            blocks.extend((alo + i, blo + j, k) for i, j, k in matcher.get_matching_blocks() if k)
            continue
        anchors = _unique_anchors(a, b, alo, ahi, blo, bhi, is_junk)
        if not anchors:
            # Nothing to cut at: match the piece window by window along its diagonal.
            approximate = True
            parts = -(-max(ahi - alo, bhi - blo) // WINDOW)
            a_cuts = [alo + (ahi - alo) * k // parts for k in range(parts + 1)]
            b_cuts = [blo + (bhi - blo) * k // parts for k in range(parts + 1)]
            pieces.extend(
                (a_cuts[k], a_cuts[k + 1], b_cuts[k], b_cuts[k + 1]) for k in range(parts)
            )
            continue
        for i, j in anchors:
            blocks.append((i, j, 1))
            pieces.append((alo, i, blo, j))
            alo, blo = i + 1, j + 1
        pieces.append((alo, ahi, blo, bhi))
    return _to_opcodes(sorted(blocks), len(a), len(b)), approximate


def _unique_anchors(
    a: Sequence[str],
    b: Sequence[str],
    alo: int,
    ahi: int,
    blo: int,
    bhi: int,
    is_junk: Callable[[str], bool],
) -> list[tuple[int, int]]:
    """The longest in-order chain of items that occur exactly once on each side."""
    in_a, in_b = Counter(a[alo:ahi]), Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if in_b[b[j]] == 1}
    pairs = [
        (i, where_b[a[i]])
        for i in range(alo, ahi)
        if in_a[a[i]] == 1 and a[i] in where_b and not is_junk(a[i])
    ]
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by i) whose j also increases."""
    tails: list[int] = []  # tails[k]: the smallest j that ends a chain of length k + 1
    tail_at: list[int] = []  # index in pairs of that chain's end
    previous = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k], tail_at[k] = j, n
        previous[n] = tail_at[k - 1] if k else -1
    chain: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        chain.append(pairs[n])
        n = previous[n]
    return chain[::-1]


def _to_opcodes(blocks: list[tuple[int, int, int]], a_len: int, b_len: int) -> list[_Opcode]:
    opcodes: list[_Opcode] = []
    i = j = 0
    for bi, bj, size in [*blocks, (a_len, b_len, 0)]:
        tag = "replace" if i < bi and j < bj else "delete" if i < bi else "insert"
        if i < bi or j < bj:
            opcodes.append((tag, i, bi, j, bj))
        if size:
            if opcodes and opcodes[-1][0] == "equal":  # join touching blocks
                _, ei, _, ej, _ = opcodes.pop()
                opcodes.append(("equal", ei, bi + size, ej, bj + size))
            else:
                opcodes.append(("equal", bi, bi + size, bj, bj + size))
        i, j = bi + size, bj + size
    return opcodes


def _to_chars(opcodes: list[_Opcode], a: Sequence[str], b: Sequence[str]) -> list[_Opcode]:
    """Token opcodes as character offsets."""
    a_at, b_at = _offsets(a), _offsets(b)
    return [(tag, a_at[i1], a_at[i2], b_at[j1], b_at[j2]) for tag, i1, i2, j1, j2 in opcodes]


def _offsets(tokens: Sequence[str]) -> list[int]:
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + len(token))
    return offsets


def _merge_whitespace(opcodes: list[_Opcode], old: str) -> list[_Opcode]:
    """The non-equal opcodes; two replacements split only by whitespace become one.

    "quick brown" -> "slow red" then reads as one highlighted phrase, not two words with
    an unchanged space between them.
    """
    changes: list[_Opcode] = []
    gap = False
    for op in opcodes:
        tag, i1, i2, _, _ = op
        if tag == "equal":
            gap = bool(changes) and changes[-1][0] == "replace" and old[i1:i2].isspace()
        elif gap and tag == "replace":
            _, pi1, _, pj1, _ = changes[-1]
            changes[-1] = ("replace", pi1, i2, pj1, op[4])
            gap = False
        else:
            changes.append(op)
            gap = False
    return changes


def _keep_ends(lines: list[str]) -> list[str]:
    """Lines with their newline kept, so offsets into the joined text stay right."""
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
