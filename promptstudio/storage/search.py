"""Find anything in the library: prompt names, templates (current and old), responses.

FTS5 with the trigram tokenizer matches any substring of three or more characters,
ignoring case, so "summar" finds "Summarise". Every whitespace-separated term must occur.
Terms shorter than three characters cannot use the index, so a query with such a term
searches only where a scan is cheap: names and current templates (one row per prompt),
with ``LIKE``; old versions and responses need every term to be 3+ characters.

Templates are grouped: at most one template hit per prompt, so 20,000 versions of one
prompt that mention a word give one line, not 20,000. Answers are not: each matching
answer is a hit of its own (it is a different run, model or sample), up to
:data:`ANSWERS_PER_PROMPT` per prompt so one busy prompt does not hide the others. Best
first: name matches (prefix first), then prompts whose current template matches, then
prompts where only an older version matches (the newest such version), then answers
(newest first). The notes of a person's ratings are searched with the answers: on a run's
answer (a ``response`` hit) and on an evaluation cell (an ``eval_cell`` hit). Later tiers
are only queried while the limit is not reached, which keeps common words fast, and read
matches newest first, stopping once they have enough.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from promptstudio.storage.rows import HitKind, SearchHit
from promptstudio.storage.sql import like_pattern, rows

logger = logging.getLogger(__name__)

ALL_KINDS: tuple[HitKind, ...] = ("prompt", "version", "response")
MIN_INDEXED_LENGTH = 3  # the trigram tokenizer needs three characters
SNIPPET_CHARS = 100
# Matches read one by one (newest first) before a tier switches to one grouped pass: when
# a few prompts own most matches, grouping in SQL beats skipping repeats in Python.
STREAM_ROWS = 400
ANSWERS_PER_PROMPT = 20
_CONTEXT_BEFORE = 30
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class _Query:
    terms: tuple[str, ...]
    short: tuple[str, ...]  # terms the index cannot serve
    fts: str | None  # the MATCH expression, None when every term is short
    pattern: re.Pattern[str]  # finds any term, for snippets and filtering short terms

    def has_short_terms(self, text: str) -> bool:
        folded = text.casefold()
        return all(term.casefold() in folded for term in self.short)


def _parse(query: str) -> _Query | None:
    terms = tuple(dict.fromkeys(query.split()))
    if not terms:
        return None
    long_terms = [t for t in terms if len(t) >= MIN_INDEXED_LENGTH]
    short = tuple(t for t in terms if len(t) < MIN_INDEXED_LENGTH)
    # Each term is a quoted FTS5 string: no operator or column syntax gets through.
    fts = " ".join('"' + t.replace('"', '""') + '"' for t in long_terms) or None
    # Highlight what the index matched; single letters would light up everywhere.
    shown = long_terms or list(short)
    ordered = sorted(shown, key=len, reverse=True)  # longest first: "summary" before "sum"
    pattern = re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)
    return _Query(terms=terms, short=short, fts=fts, pattern=pattern)


def match_spans(text: str, query: str) -> tuple[tuple[int, int], ...]:
    """Where ``query`` matches in ``text`` (as the search highlights it): (start, end)s."""
    parsed = _parse(query)
    if parsed is None:
        return ()
    return tuple((m.start(), m.end()) for m in parsed.pattern.finditer(text) if m.end() > m.start())


def hit_text(conn: sqlite3.Connection, hit: SearchHit) -> str:
    """The whole text ``hit`` matched in: the answer, the version's template, or (for a
    name) the prompt's current template; "" if it is gone."""
    if hit.kind == "response" and hit.response_id is not None:
        found = rows(conn, "SELECT text FROM responses WHERE id = ?", (hit.response_id,))
    elif hit.kind == "eval_cell" and hit.eval_cell_id is not None:
        found = rows(
            conn,
            "SELECT 'note: ' || coalesce(rating_note, '') || char(10) || char(10) || text AS text "
            "FROM eval_results WHERE id = ?",
            (hit.eval_cell_id,),
        )
    elif hit.version_id is not None:
        found = rows(conn, "SELECT template AS text FROM versions WHERE id = ?", (hit.version_id,))
    else:
        found = rows(
            conn,
            "SELECT template AS text FROM versions WHERE prompt_id = ? ORDER BY id DESC LIMIT 1",
            (hit.prompt_id,),
        )
    return str(found[0]["text"]) if found else ""


def snippet(
    text: str, pattern: re.Pattern[str], width: int = SNIPPET_CHARS
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A one-line excerpt of ``text`` around the first match, with the match offsets."""
    first = pattern.search(text)
    if first is None:
        start = 0
    else:
        start = max(0, first.start() - _CONTEXT_BEFORE)
        start = max(0, min(start, len(text) - width))
    end = min(len(text), start + width)
    window = re.sub(r"\s", " ", text[start:end])
    prefix = _ELLIPSIS if start > 0 else ""
    suffix = _ELLIPSIS if end < len(text) else ""
    shift = len(prefix)
    spans = tuple(
        (m.start() + shift, m.end() + shift)
        for m in pattern.finditer(window)
        if m.end() > m.start()
    )
    return prefix + window + suffix, spans


def search(
    conn: sqlite3.Connection,
    query: str,
    *,
    limit: int = 50,
    kinds: Collection[HitKind] = ALL_KINDS,
) -> list[SearchHit]:
    """Search names, templates and responses of prompts outside the trash; best first.

    ``kinds`` narrows the search (``{"prompt"}`` for a quick-open box, ``{"response"}``
    to look through outputs only).
    """
    parsed = _parse(query)
    if parsed is None or limit <= 0:
        return []
    hits: list[SearchHit] = []
    if "prompt" in kinds:
        hits += _name_hits(conn, parsed)[:limit]
    current: set[int] = set()
    if "version" in kinds and len(hits) < limit:
        for hit in _current_template_hits(conn, parsed, limit - len(hits)):
            hits.append(hit)
            current.add(hit.prompt_id)
    if "response" in kinds and len(hits) < limit:
        hits += _note_hits(conn, parsed, limit - len(hits))
    if "response" in kinds and len(hits) < limit:
        hits += _eval_note_hits(conn, parsed, limit - len(hits))
    if parsed.short:
        return hits  # short terms: old versions and responses are too many to scan
    if "version" in kinds and len(hits) < limit:
        hits += _old_version_hits(conn, parsed, limit - len(hits), skip=current)
    if "response" in kinds and len(hits) < limit:
        noted = {hit.response_id for hit in hits if hit.kind == "response"}
        answers = _response_hits(conn, parsed, limit - len(hits))
        hits += [hit for hit in answers if hit.response_id not in noted]
    return hits


def _name_hits(conn: sqlite3.Connection, query: _Query) -> list[SearchHit]:
    if query.fts is not None:
        found = rows(
            conn,
            """
            SELECT p.id, p.name FROM prompts_fts f JOIN prompts p ON p.id = f.rowid
            WHERE prompts_fts MATCH ? AND p.trashed_at IS NULL
            """,
            (query.fts,),
        )
    else:
        likes = " AND ".join("p.name LIKE ? ESCAPE '\\'" for _ in query.terms)
        found = rows(
            conn,
            f"SELECT p.id, p.name FROM prompts p WHERE p.trashed_at IS NULL AND {likes}",
            [like_pattern(t) for t in query.terms],
        )
    first = query.terms[0].casefold()

    def rank(row: sqlite3.Row) -> tuple[bool, int, int, str]:
        name = row["name"].casefold()
        position = name.find(first)
        return (position != 0, position if position >= 0 else len(name), len(name), name)

    hits = []
    for row in sorted(found, key=rank):
        if not query.has_short_terms(row["name"]):
            continue
        text, spans = snippet(row["name"], query.pattern)
        hits.append(
            SearchHit(
                kind="prompt",
                prompt_id=row["id"],
                prompt_name=row["name"],
                version_id=None,
                response_id=None,
                snippet=text,
                highlights=spans,
            )
        )
    return hits


def _version_hits(
    conn: sqlite3.Connection,
    query: _Query,
    candidates: Iterable[tuple[int, str, int]],
    limit: int,
    *,
    is_latest: bool,
) -> list[SearchHit]:
    """Turn (prompt id, prompt name, version id) into hits, reading each template."""
    hits: list[SearchHit] = []
    for prompt_id, prompt_name, version_id in candidates:
        if len(hits) >= limit:
            break
        found = rows(conn, "SELECT number, template FROM versions WHERE id = ?", (version_id,))
        if not found or not query.has_short_terms(found[0]["template"]):
            continue
        text, spans = snippet(found[0]["template"], query.pattern)
        hits.append(
            SearchHit(
                kind="version",
                prompt_id=prompt_id,
                prompt_name=prompt_name,
                version_id=version_id,
                response_id=None,
                snippet=text,
                highlights=spans,
                version_number=found[0]["number"],
                is_latest=is_latest,
            )
        )
    return hits


def _current_template_hits(conn: sqlite3.Connection, query: _Query, limit: int) -> list[SearchHit]:
    if query.fts is not None:
        sql = """
            SELECT p.id AS prompt_id, p.name AS prompt_name,
                   (SELECT max(id) FROM versions WHERE prompt_id = p.id) AS version_id
            FROM current_fts f JOIN prompts p ON p.id = f.rowid
            WHERE current_fts MATCH ? AND p.trashed_at IS NULL
            ORDER BY p.updated_at DESC, p.id DESC
        """
        params: list[str] = [query.fts]
    else:
        likes = " AND ".join("c.template LIKE ? ESCAPE '\\'" for _ in query.terms)
        sql = f"""
            SELECT p.id AS prompt_id, p.name AS prompt_name,
                   (SELECT max(id) FROM versions WHERE prompt_id = p.id) AS version_id
            FROM current_templates c JOIN prompts p ON p.id = c.prompt_id
            WHERE p.trashed_at IS NULL AND {likes}
            ORDER BY p.updated_at DESC, p.id DESC
        """
        params = [like_pattern(t) for t in query.terms]
    candidates = (
        (r["prompt_id"], r["prompt_name"], r["version_id"]) for r in rows(conn, sql, params)
    )
    return _version_hits(conn, query, candidates, limit, is_latest=True)


def _newest_per_prompt(
    conn: sqlite3.Connection,
    stream_sql: str,
    grouped_sql: str,
    fts: str,
    limit: int,
    skip: set[int],
    per_prompt: int = 1,
) -> list[tuple[int, str, int]]:
    """(prompt id, prompt name, matching row id): up to ``limit`` rows, newest first, at
    most ``per_prompt`` of each prompt.

    ``stream_sql`` yields (row id, prompt id) newest first; ``grouped_sql`` gives the
    newest per prompt for row ids below ``:below``, for the prompts the streamed rows did
    not reach. Prompts in ``skip`` or the trash are left out.
    """
    excluded = set(skip)
    excluded.update(
        id_ for (id_,) in conn.execute("SELECT id FROM prompts WHERE trashed_at IS NOT NULL")
    )
    taken: dict[int, int] = {}  # prompt id -> rows found so far
    found: list[tuple[int, int]] = []
    cursor = conn.execute(stream_sql, {"fts": fts})
    for streamed, (row_id, prompt_id) in enumerate(cursor, start=1):
        if prompt_id not in excluded and taken.get(prompt_id, 0) < per_prompt:
            taken[prompt_id] = taken.get(prompt_id, 0) + 1
            found.append((prompt_id, row_id))
            if len(found) >= limit:
                break
        if streamed >= STREAM_ROWS:
            for prompt_id, newest in conn.execute(grouped_sql, {"fts": fts, "below": row_id}):
                if prompt_id not in excluded and prompt_id not in taken:
                    found.append((prompt_id, newest))
            break
    cursor.close()
    found = found[:limit]
    if not found:
        return []
    marks = ",".join("?" * len(found))
    names = dict(
        conn.execute(f"SELECT id, name FROM prompts WHERE id IN ({marks})", [p for p, _ in found])
    )
    return [(pid, names[pid], row_id) for pid, row_id in found if pid in names]


def _old_version_hits(
    conn: sqlite3.Connection, query: _Query, limit: int, *, skip: set[int]
) -> list[SearchHit]:
    assert query.fts is not None
    candidates = _newest_per_prompt(
        conn,
        """
        SELECT f.rowid, v.prompt_id FROM versions_fts f JOIN versions v ON v.id = f.rowid
        WHERE versions_fts MATCH :fts ORDER BY f.rowid DESC
        """,
        """
        SELECT v.prompt_id, max(f.rowid) AS newest
        FROM versions_fts f JOIN versions v ON v.id = f.rowid
        WHERE versions_fts MATCH :fts AND f.rowid < :below
        GROUP BY v.prompt_id ORDER BY newest DESC
        """,
        query.fts,
        limit,
        skip,
    )
    return _version_hits(conn, query, candidates, limit, is_latest=False)


def _response_hits(conn: sqlite3.Connection, query: _Query, limit: int) -> list[SearchHit]:
    assert query.fts is not None
    owners = """
        FROM responses_fts f JOIN responses s ON s.id = f.rowid
        JOIN runs r ON r.id = s.run_id JOIN versions v ON v.id = r.version_id
    """
    candidates = _newest_per_prompt(
        conn,
        f"SELECT f.rowid, v.prompt_id {owners} WHERE responses_fts MATCH :fts "
        "ORDER BY f.rowid DESC",
        f"SELECT v.prompt_id, max(f.rowid) AS newest {owners} "
        "WHERE responses_fts MATCH :fts AND f.rowid < :below "
        "GROUP BY v.prompt_id ORDER BY newest DESC",
        query.fts,
        limit,
        set(),
        per_prompt=ANSWERS_PER_PROMPT,
    )
    hits: list[SearchHit] = []
    for prompt_id, prompt_name, response_id in candidates:
        detail = rows(
            conn,
            """
            SELECT s.text, r.version_id, v.number FROM responses s
            JOIN runs r ON r.id = s.run_id JOIN versions v ON v.id = r.version_id
            WHERE s.id = ?
            """,
            (response_id,),
        )
        if not detail:
            continue
        text, spans = snippet(detail[0]["text"], query.pattern)
        hits.append(
            SearchHit(
                kind="response",
                prompt_id=prompt_id,
                prompt_name=prompt_name,
                version_id=detail[0]["version_id"],
                response_id=response_id,
                snippet=text,
                highlights=spans,
                version_number=detail[0]["number"],
            )
        )
    return hits


def _note_hits(conn: sqlite3.Connection, query: _Query, limit: int) -> list[SearchHit]:
    """Answers whose rating note (``storage.ratings``) holds every term, newest first.

    Notes are few (only rated answers have one, a partial index lists them), so ``LIKE``
    serves them, short terms included."""
    found = rows(
        conn,
        f"""
        SELECT s.id, s.rating_note, r.version_id, v.number, p.id AS prompt_id, p.name
        FROM responses s JOIN runs r ON r.id = s.run_id JOIN versions v ON v.id = r.version_id
        JOIN prompts p ON p.id = v.prompt_id
        WHERE (s.rating IS NOT NULL OR s.rating_note IS NOT NULL) AND p.trashed_at IS NULL
          AND {_note_likes(query, "s")}
        ORDER BY s.id DESC LIMIT ?
        """,
        [*(like_pattern(t) for t in query.terms), limit],
    )
    return [_note_hit(row, query, "response", response_id=row["id"]) for row in found]


def _note_likes(query: _Query, table: str) -> str:
    return " AND ".join(f"{table}.rating_note LIKE ? ESCAPE '\\'" for _ in query.terms)


def _eval_note_hits(conn: sqlite3.Connection, query: _Query, limit: int) -> list[SearchHit]:
    """Evaluation cells whose rating note holds every term, newest first (as
    :func:`_note_hits`: the rated cells are few and a partial index lists them)."""
    found = rows(
        conn,
        f"""
        SELECT c.id, c.rating_note, c.case_key, c.column_key, e.id AS eval_run_id,
               e.version_id, v.number, p.id AS prompt_id, p.name
        FROM eval_results c JOIN eval_runs e ON e.id = c.eval_run_id
        JOIN versions v ON v.id = e.version_id JOIN prompts p ON p.id = e.prompt_id
        WHERE (c.rating IS NOT NULL OR c.rating_note IS NOT NULL) AND p.trashed_at IS NULL
          AND {_note_likes(query, "c")}
        ORDER BY c.id DESC LIMIT ?
        """,
        [*(like_pattern(t) for t in query.terms), limit],
    )
    return [
        _note_hit(row, query, "eval_cell", eval_run_id=row["eval_run_id"], eval_cell_id=row["id"])
        for row in found
    ]


def _note_hit(
    row: sqlite3.Row,
    query: _Query,
    kind: HitKind,
    response_id: int | None = None,
    eval_run_id: int | None = None,
    eval_cell_id: int | None = None,
) -> SearchHit:
    """A hit on a rating note: the note as its snippet, with the prompt and version it is in."""
    text, spans = snippet("note: " + row["rating_note"], query.pattern)
    return SearchHit(
        kind=kind,
        prompt_id=row["prompt_id"],
        prompt_name=row["name"],
        version_id=row["version_id"],
        response_id=response_id,
        snippet=text,
        highlights=spans,
        version_number=row["number"],
        eval_run_id=eval_run_id,
        eval_cell_id=eval_cell_id,
    )
