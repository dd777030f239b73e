"""Human ratings are kept with the answer they judge, found by search, and old libraries
gain them by migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from promptstudio.evals.results import DONE, CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.evals.store import load_run, save_run
from promptstudio.storage import Database, NotFound, StorageError, library
from promptstudio.storage import ratings as rating_store
from promptstudio.storage import search as search_module
from promptstudio.storage.ratings import BAD, GOOD, NO_RATING, Rating
from promptstudio.storage.schema import MIGRATIONS, schema_version
from tests.storage.helpers import respond


def test_a_response_rating_is_stored_with_it_and_can_be_cleared(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        prompt = db.call(library.create_prompt, "p")
        version = db.call(library.save_version, prompt.id, "Hi {{ x }}", {"x": "1"}, {})
        answer = respond(db, version.id, "Paris is the capital.")
        assert db.call(rating_store.get_rating, "response", answer.id) == NO_RATING
        stored = db.call(
            rating_store.set_rating, "response", answer.id, Rating(GOOD, "  exact, terse  ")
        )
        assert stored == Rating(GOOD, "exact, terse")
    with Database(path) as db:
        (row,) = db.call(library.list_responses, answer.run_id)
        assert (row.rating, row.rating_note) == (GOOD, "exact, terse")
        db.call(rating_store.set_rating, "response", answer.id, Rating(None, " "))
        (row,) = db.call(library.list_responses, answer.run_id)
        assert (row.rating, row.rating_note) == (None, "")
        with pytest.raises(NotFound):
            db.call(rating_store.set_rating, "response", 999, Rating(BAD))
        with pytest.raises(StorageError):
            db.call(rating_store.set_rating, "response", answer.id, Rating(2))


def test_eval_cells_and_pins_are_rated(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "p")
        version = db.call(library.save_version, prompt.id, "Hi", {}, {})
        run = EvalRun(
            columns=(EvalColumn("a", "m", "m", "http://x/v1", {}),),
            cases=(EvalCase("c1", 0, {}), EvalCase("c2", 1, {})),
        )
        run.cells[("c1", "a")] = CellResult("c1", "a", DONE, text="one")
        run.cells[("c2", "a")] = CellResult("c2", "a", DONE, text="two")
        saved = db.call(save_run, version.id, run)
        assert saved.id is not None
        db.call(rating_store.rate_eval_cell, saved.id, "c2", "a", Rating(BAD, "wrong city"))
        assert db.call(rating_store.eval_ratings, saved.id) == {
            ("c2", "a"): Rating(BAD, "wrong city")
        }
        with pytest.raises(NotFound):
            db.call(rating_store.rate_eval_cell, saved.id, "c9", "a", Rating(GOOD))
        assert db.call(load_run, saved.id).cell("c1", "a") is not None  # loads as before
        pin = db.call(library.pin_answer, prompt.id, "m", "", "kept")
        db.call(rating_store.set_rating, "pin", pin.id, Rating(GOOD))
        assert db.call(rating_store.pin_ratings, prompt.id) == {pin.id: Rating(GOOD)}


def test_the_search_finds_notes_of_rated_answers(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Capitals")
        version = db.call(library.save_version, prompt.id, "Capital of {{ c }}?", {}, {})
        answer = respond(db, version.id, "Lyon.")
        respond(db, version.id, "Paris.")
        assert [h.response_id for h in db.call(library.search, "hallucinated")] == []
        db.call(rating_store.set_rating, "response", answer.id, Rating(BAD, "hallucinated city"))
        hits = db.call(library.search, "hallucinated")
        assert [(h.kind, h.response_id) for h in hits] == [("response", answer.id)]
        assert hits[0].snippet.startswith("note: hallucinated")
        # a short term is served too (notes are scanned, not indexed)
        assert [h.response_id for h in db.call(library.search, "ci")] == [answer.id]


def test_the_search_finds_notes_of_rated_evaluation_cells(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        prompt = db.call(library.create_prompt, "Capitals")
        version = db.call(library.save_version, prompt.id, "Capital of {{ c }}?", {}, {})
        run = EvalRun(
            columns=(EvalColumn("a", "m", "m", "http://x/v1", {}),),
            cases=(EvalCase("c1", 0, {}), EvalCase("c2", 1, {})),
        )
        run.cells[("c1", "a")] = CellResult("c1", "a", DONE, text="Lyon.")
        run.cells[("c2", "a")] = CellResult("c2", "a", DONE, text="Rome.")
        saved = db.call(save_run, version.id, run)
        assert saved.id is not None
        assert db.call(library.search, "hallucinated") == []
        db.call(rating_store.rate_eval_cell, saved.id, "c1", "a", Rating(BAD, "hallucinated city"))
    with Database(path) as db:  # found again from the file
        hits = db.call(library.search, "hallucinated")
        assert [(h.kind, h.eval_run_id, h.version_id) for h in hits] == [
            ("eval_cell", saved.id, version.id)
        ]
        assert hits[0].snippet.startswith("note: hallucinated")
        assert db.call(search_module.hit_text, hits[0]).endswith("Lyon.")  # the preview
        assert [h.kind for h in db.call(library.search, "ci", kinds={"response"})] == ["eval_cell"]
        assert db.call(library.search, "hallucinated", kinds={"prompt", "version"}) == []
        db.call(library.trash_prompt, prompt.id)
        assert db.call(library.search, "hallucinated") == []


def test_a_library_from_before_ratings_opens_with_its_answers_unrated(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path)
    before = next(i for i, step in enumerate(MIGRATIONS) if "ratings" in step.__name__)
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.commit()
    conn.close()
    with Database(path) as db:
        assert db.call(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == (
            schema_version()
        )
        prompt = db.call(library.create_prompt, "old")
        version = db.call(library.save_version, prompt.id, "T", {}, {})
        answer = respond(db, version.id, "kept")
        assert (answer.rating, answer.rating_note) == (None, "")
        db.call(rating_store.set_rating, "response", answer.id, Rating(GOOD))
        assert db.call(rating_store.get_rating, "response", answer.id).verdict == GOOD
