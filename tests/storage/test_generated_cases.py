"""Generated test cases, rewrites on a branch, and optimisation reports in the library."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from promptstudio.storage import Database, library, optimisations
from promptstudio.storage.schema import MIGRATIONS


def test_a_library_from_before_gains_the_generated_flag_and_keeps_its_cases(
    tmp_path: Path,
) -> None:
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path)
    before = next(i for i, step in enumerate(MIGRATIONS) if "generated" in step.__name__)
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO prompts (name, folder, created_at, updated_at) "
                 "VALUES ('old', '', 'x', 'x')")  # fmt: skip
    conn.execute("INSERT INTO test_cases (prompt_id, position, vars, description, expected, "
                 "asserts, created_at, updated_at) VALUES (1, 0, '{\"q\": \"kept\"}', '', NULL, "
                 "'[]', 'x', 'x')")  # fmt: skip
    conn.commit()
    conn.close()
    with Database(path) as db:
        [old] = db.call(library.list_cases, 1)
        assert old.vars == {"q": "kept"} and old.generated is False
        new = db.call(library.add_case, 1, {"q": "new"}, generated=True)
        assert new.generated is True
        # Saving the table's cases (which carry no flag) keeps it.
        db.call(library.save_cases, 1, [{"id": old.id, "vars": {"q": "kept"}},
                                        {"id": new.id, "vars": {"q": "edited"}}])  # fmt: skip
        assert [c.generated for c in db.call(library.list_cases, 1)] == [False, True]
        row = db.call(optimisations.save_optimisation, 1, None, None, "rounds", {"a": 1})
        assert db.call(optimisations.list_optimisations, 1) == [row]


def test_a_rewrite_is_a_version_on_a_branch_of_the_one_it_rewrote(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "p")
        first = db.call(library.save_version, prompt.id, "user:\n{{ q }}", {"q": "1"}, {})
        second = db.call(library.save_version, prompt.id, "user:\n{{ q }}!", {"q": "1"}, {})
        child = db.call(library.branch_version, first.id, "user:\nPlease {{ q }}",
                        kind="improved", message="Improved")  # fmt: skip
        assert (child.parent_id, child.kind, child.number) == (first.id, "improved", 3)
        assert child.variables == {"q": "1"} and second.parent_id == first.id
        again = db.call(library.branch_version, first.id, "user:\nPlease {{ q }}",
                        kind="improved")  # fmt: skip
        assert again.id == child.id  # proposing the same rewrite twice adds nothing
