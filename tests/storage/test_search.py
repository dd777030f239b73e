"""Full-text search over names, templates and responses, kept in sync by triggers."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from promptstudio.storage import Database, library
from promptstudio.storage import search as search_module
from promptstudio.storage.schema import FTS_TABLES
from tests.storage.helpers import respond


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def _hits(
    db: Database, query: str, kinds: Collection[library.HitKind] = search_module.ALL_KINDS
) -> list[tuple[str, str]]:
    return [(h.kind, h.prompt_name) for h in db.call(library.search, query, kinds=kinds)]


def _respond(db: Database, version_id: int, text: str) -> int:
    return respond(db, version_id, text, base_url="u").id


def _integrity(conn: sqlite3.Connection) -> None:
    for table in FTS_TABLES:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")


def test_partial_words_match_in_names_templates_and_responses(db: Database) -> None:
    prompt = db.call(library.create_prompt, "Summarise an article")
    version = db.call(library.save_version, prompt.id, "Please SUMMARIZE:\n{{ text }}", {}, {})
    response_id = _respond(db, version.id, "A short summary of the text.")
    hits = db.call(library.search, "summar")
    assert [(h.kind, h.prompt_id) for h in hits] == [
        ("prompt", prompt.id),
        ("version", prompt.id),
        ("response", prompt.id),
    ]
    name, template, response = hits
    assert name.marked() == "[Summar]ise an article"
    assert (template.version_id, template.version_number, template.is_latest) == (
        version.id,
        1,
        True,
    )
    assert template.marked() == "Please [SUMMAR]IZE: {{ text }}"
    assert (response.response_id, response.version_id) == (response_id, version.id)
    assert response.marked("<b>", "</b>") == "A short <b>summar</b>y of the text."


def test_every_term_must_match_and_operators_are_plain_text(db: Database) -> None:
    a = db.call(library.create_prompt, "alpha")
    b = db.call(library.create_prompt, "beta")
    db.call(library.save_version, a.id, 'json output "quoted" AND stuff', {}, {})
    db.call(library.save_version, b.id, "json only", {}, {})
    assert _hits(db, "json output") == [("version", "alpha")]
    assert _hits(db, "json") == [("version", "beta"), ("version", "alpha")]  # newest first
    assert _hits(db, '"quoted" AND') == [("version", "alpha")]
    assert _hits(db, "NEAR(x y)") == []
    assert _hits(db, "   ") == []


def test_short_queries_fall_back_to_like_on_names_and_current_templates(db: Database) -> None:
    a = db.call(library.create_prompt, "Go tips")
    b = db.call(library.create_prompt, "other")
    db.call(library.save_version, b.id, "write it in go please", {}, {})
    db.call(library.save_version, a.id, "nothing here", {}, {})
    assert _hits(db, "go") == [("prompt", "Go tips"), ("version", "other")]
    assert _hits(db, "50%") == []  # LIKE wildcards are literal
    # A short term next to a long one filters the indexed matches.
    assert _hits(db, "please go") == [("version", "other")]
    assert _hits(db, "please zz") == []
    # ... of names and current templates only: history needs terms of 3+ characters.
    db.call(library.save_version, b.id, "rewritten", {}, {})
    assert _hits(db, "please") == [("version", "other")]
    assert _hits(db, "please go") == []


def test_grouped_per_prompt_latest_version_preferred(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    for i in range(30):
        db.call(library.save_version, prompt.id, f"keyword draft {i}", {}, {})
    hits = db.call(library.search, "keyword")
    assert len(hits) == 1
    assert hits[0].is_latest and hits[0].version_number == 30
    # The word leaves the current text: the newest old version that has it is found.
    db.call(library.save_version, prompt.id, "rewritten", {}, {})
    (old,) = db.call(library.search, "keyword")
    assert (old.is_latest, old.version_number) == (False, 30)


def test_many_matches_in_one_prompt_do_not_hide_others(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the streaming budget the rest is grouped in SQL: nothing is missed."""
    monkeypatch.setattr(search_module, "STREAM_ROWS", 3)
    quiet = db.call(library.create_prompt, "quiet")
    busy = db.call(library.create_prompt, "busy")
    old = db.call(library.save_version, quiet.id, "needle once", {}, {})
    db.call(library.save_version, quiet.id, "gone", {}, {})
    for i in range(12):
        version = db.call(library.save_version, busy.id, f"needle {i}", {}, {})
        _respond(db, version.id, f"needle answer {i}")
    db.call(library.save_version, busy.id, "gone too", {}, {})
    quiet_version = db.call(library.latest_version, quiet.id)
    assert quiet_version is not None
    _respond(db, old.id, "needle in an old answer")
    hits = db.call(library.search, "needle")
    assert [(h.kind, h.prompt_name, h.is_latest) for h in hits] == [
        ("version", "busy", False),
        ("version", "quiet", False),
        ("response", "quiet", False),
        ("response", "busy", False),  # each answer its own hit, newest first
        ("response", "busy", False),
    ]
    assert hits[1].version_id == old.id
    assert hits[0].version_number == 12


def test_each_matching_answer_is_a_hit_newest_first(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs that both answered with the word are two hits, each naming its answer
    and version (issue 14, point 25); one busy prompt gives at most ANSWERS_PER_PROMPT."""
    prompt = db.call(library.create_prompt, "p")
    first = db.call(library.save_version, prompt.id, "t", {}, {})
    second = db.call(library.save_version, prompt.id, "t2", {}, {})
    one = _respond(db, first.id, "a verbose answer")
    two = _respond(db, second.id, "another verbose answer")
    hits = db.call(library.search, "verbose")
    assert [(h.kind, h.response_id, h.version_id) for h in hits] == [
        ("response", two, second.id),
        ("response", one, first.id),
    ]
    assert [h.marked() for h in hits] == ["another [verbose] answer", "a [verbose] answer"]
    monkeypatch.setattr(search_module, "ANSWERS_PER_PROMPT", 3)
    ids = [_respond(db, second.id, f"verbose answer {i}") for i in range(5)]
    quiet = db.call(library.create_prompt, "quiet")
    quiet_version = db.call(library.save_version, quiet.id, "q", {}, {})
    quiet_answer = _respond(db, quiet_version.id, "verbose too")
    newest = _respond(db, second.id, "verbose, newest of all")
    hits = db.call(library.search, "verbose")
    assert [h.response_id for h in hits] == [newest, quiet_answer, ids[4], ids[3]]


def test_ranking_names_prefix_first_then_templates_then_responses(db: Database) -> None:
    inside = db.call(library.create_prompt, "The report writer")
    prefix = db.call(library.create_prompt, "Report")
    body = db.call(library.create_prompt, "unrelated")
    version = db.call(library.save_version, body.id, "make a report", {}, {})
    _respond(db, version.id, "here is the report")
    hits = db.call(library.search, "report")
    assert [(h.kind, h.prompt_id) for h in hits] == [
        ("prompt", prefix.id),
        ("prompt", inside.id),
        ("version", body.id),
        ("response", body.id),
    ]
    assert len(db.call(library.search, "report", limit=2)) == 2
    assert _hits(db, "report", kinds={"response"}) == [("response", "unrelated")]


def test_index_follows_rename_trash_restore_and_delete(db: Database) -> None:
    prompt = db.call(library.create_prompt, "Old name")
    version = db.call(library.save_version, prompt.id, "template words", {}, {})
    _respond(db, version.id, "response words")
    db.call(library.rename_prompt, prompt.id, "Brand new")
    assert _hits(db, "old name") == []
    assert _hits(db, "brand") == [("prompt", "Brand new")]
    db.call(library.trash_prompt, prompt.id)
    assert _hits(db, "words") == []
    db.call(library.restore_prompt, prompt.id)
    assert _hits(db, "words") == [("version", "Brand new"), ("response", "Brand new")]
    db.call(library.trash_prompt, prompt.id)
    db.call(library.empty_trash)
    assert _hits(db, "words") == []
    db.call(_integrity)


def test_index_stays_exact_through_many_changes(db: Database) -> None:
    prompts = [db.call(library.create_prompt, f"prompt {i}") for i in range(5)]
    for round_ in range(10):
        for prompt in prompts:
            version = db.call(library.save_version, prompt.id, f"text {round_} {prompt.id}", {}, {})
            if round_ % 3 == 0:
                _respond(db, version.id, f"answer {round_}")
    db.call(library.restore_version, db.call(library.get_version_by_number, prompts[0].id, 2).id)
    db.call(library.duplicate_prompt, prompts[1].id)
    db.call(library.trash_prompt, prompts[2].id)
    db.call(library.empty_trash)
    db.call(_integrity)
    # current_fts holds exactly the latest template of each prompt.
    (restored,) = [h for h in db.call(library.search, "text 1 ") if h.prompt_id == prompts[0].id]
    assert restored.is_latest and restored.version_number == 11


def test_current_template_index_follows_settings_only_versions(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "stable text", {}, {"model": "a"})
    db.call(library.save_version, prompt.id, "stable text", {}, {"model": "b"})
    db.call(library.restore_version, db.call(library.get_version_by_number, prompt.id, 1).id)
    (hit,) = db.call(library.search, "stable")
    assert (hit.is_latest, hit.version_number) == (True, 3)
    db.call(library.save_version, prompt.id, "changed", {}, {})
    assert [h.is_latest for h in db.call(library.search, "stable")] == [False]
    assert [h.is_latest for h in db.call(library.search, "changed")] == [True]
    db.call(_integrity)


def test_search_text_in_a_response_updated_later(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "t", {}, {})
    response_id = _respond(db, version.id, "partial strea")

    def finish(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE responses SET text = 'complete streamed text' WHERE id = ?",
                     (response_id,))  # fmt: skip

    db.call(finish)
    assert _hits(db, "streamed") == [("response", "p")]
    assert _hits(db, "partial") == []
    db.call(_integrity)


def test_snippet_is_one_line_around_the_first_match() -> None:
    pattern = library.search.__globals__["_parse"]("needle").pattern
    text = "line one\n" + "a" * 200 + " needle " + "b" * 200
    from promptstudio.storage.search import snippet

    shown, spans = snippet(text, pattern)
    assert "\n" not in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert [shown[a:b] for a, b in spans] == ["needle"]
    assert len(shown) <= 102
