"""Pinned answers belong to their prompt and are kept in the library."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from promptstudio.storage import Database, NotFound, library
from promptstudio.storage.schema import MIGRATIONS


def test_pins_are_kept_per_prompt_in_order_and_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        first = db.call(library.create_prompt, "first")
        second = db.call(library.create_prompt, "second")
        a = db.call(library.pin_answer, first.id, "m · 10:00:00", "m at http://x/v1", "answer A")
        b = db.call(library.pin_answer, first.id, "n · 10:01:00", "", "answer B\nline two")
        assert db.call(library.list_pins, second.id) == []
    with Database(path) as db:
        pins = db.call(library.list_pins, first.id)
        assert pins == [a, b]
        assert pins[1].text == "answer B\nline two" and pins[0].detail == "m at http://x/v1"
        assert db.call(library.unpin, a.id) is True
        assert db.call(library.unpin, a.id) is False
        assert [p.id for p in db.call(library.list_pins, first.id)] == [b.id]
        with pytest.raises(NotFound):
            db.call(library.pin_answer, 999, "x", "", "y")


def test_deleting_a_prompt_deletes_its_pins(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "p")
        db.call(library.pin_answer, prompt.id, "m", "", "text")
        db.call(library.trash_prompt, prompt.id)
        db.call(library.delete_forever, prompt.id)
        count = db.call(lambda c: c.execute("SELECT count(*) FROM pinned_answers").fetchone()[0])
        assert count == 0


def test_a_library_from_before_pins_gets_the_table(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path)
    before = next(i for i, step in enumerate(MIGRATIONS) if "pinned_answers" in step.__name__)
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.commit()
    conn.close()
    with Database(path) as db:
        prompt = db.call(library.create_prompt, "old")
        db.call(library.pin_answer, prompt.id, "m", "", "kept")
        assert [p.text for p in db.call(library.list_pins, prompt.id)] == ["kept"]
