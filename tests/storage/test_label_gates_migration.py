"""The label gates migration (step 17): a library from before it keeps its labels, which
come back without a gate, and a gate can then be stored on them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from promptstudio.storage import Database, library
from promptstudio.storage.rows import LabelGate
from promptstudio.storage.schema import MIGRATIONS, schema_version
from promptstudio.storage.transaction import transaction
from promptstudio.storage.versions import insert_version

T0 = "2026-01-01T10:00:00.000Z"


def test_a_library_from_before_label_gates_keeps_its_labels(tmp_path: Path) -> None:
    names = [step.__name__ for step in MIGRATIONS]
    before = names.index("_step_17_label_gates")
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        with transaction(conn):
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
    with transaction(conn):
        conn.execute("INSERT INTO prompts (id, name, created_at, updated_at) "
                     "VALUES (1, 'Support', ?, ?)", (T0, T0))  # fmt: skip
        version = insert_version(conn, 1, template="T", variables={}, settings={},
                                 message="", kind="save", parent_id=None)  # fmt: skip
        conn.execute("INSERT INTO labels (prompt_id, name, version_id, updated_at) "
                     "VALUES (1, 'production', ?, ?)", (version, T0))  # fmt: skip
    conn.close()
    with Database(path) as db:
        assert db.call(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == (
            schema_version()
        )
        [label] = db.call(library.list_labels, 1)
        assert (label.name, label.version_id, label.gate) == ("production", version, None)
        gate = LabelGate(0.9, lower_bound=True, models=("m1",))
        assert db.call(library.set_label_gate, 1, "production", gate).gate == gate
        assert db.call(library.get_label, 1, "Production").gate == gate  # type: ignore[union-attr]
