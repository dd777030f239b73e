"""Fuzzing the stored library: random byte damage, then open it and read everything.

A real library (every table filled through the library API) is copied per example;
random bytes are flipped, zeroed or overwritten; then the storage layer opens it
(checking it and recovering it when damaged) and every read the app and the CLI make is
done. Only StorageError (or data) may come out, and a file recovered once opens clean.
"""

from __future__ import annotations

import functools
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from promptstudio.errors import PromptStudioError
from promptstudio.exchange.library_io import library_documents
from promptstudio.storage import Database, library
from tests.fuzz.strategies import first_failure, typed_or_success
from tests.storage.helpers import answer

SEARCHES = ["alpha", "Paris", "answer", "user", '"quoted phrase"', "a*", "tag:fuzz"]


def fill(conn: sqlite3.Connection) -> None:
    """A little of everything the library holds."""
    for number in range(6):
        prompt = library.create_prompt(conn, f"Prompt {number} alpha", f"Folder {number % 2}/sub")
        library.set_tags(conn, prompt.id, ["fuzz", f"t{number}"])
        versions = [
            library.save_version(
                conn,
                prompt.id,
                f"system:\nYou answer about {{{{ city }}}} ({step})\nuser:\n" + "Paris " * 40,
                {"city": "Paris", "n": step, "list": [1, 2, {"k": "v"}]},
                {"columns": [{"model": "m", "params": {"temperature": 0.5}}]},
                message=f"step {step}",
            )
            for step in range(4)
        ]
        library.set_label(conn, prompt.id, "prod", versions[1].id)
        library.save_draft(conn, prompt.id, "draft {{ city }}", {"city": "VARMARK"}, {})
        library.add_case(conn, prompt.id, {"city": "Paris"}, description="d", expected="Paris",
                         asserts=[{"type": "contains", "value": "Paris"}])  # fmt: skip
        library.set_eval_settings(conn, prompt.id, asserts=[{"type": "is-json"}],
                                  judge_prompt="user:\n{{ output }}", judge_column="c")  # fmt: skip
        for version in versions[2:]:
            run = library.record_run(conn, version.id, {"city": "Paris"})
            library.add_response(conn, run.id, **answer("ANSWERMARK about Paris " * 20))
            library.save_eval_run(
                conn,
                version.id,
                columns=[{"id": "c", "model": "m"}],
                cases=[{"vars": {"city": "Paris"}}],
                settings={},
                status="done",
                cells=[],
            )
        library.cache_put(conn, f"key{number}", {"model": "m", "text": "cached answer"})
        if number == 5:
            library.trash_prompt(conn, prompt.id)


def read_everything(db: Database) -> PromptStudioError | None:
    """Every read the window, the history, search, evaluations and export make.

    Stops at the first typed error and returns it; any other exception fails the test.
    """
    try:
        prompts = db.call(library.list_prompts) + db.call(library.list_trash)
    except PromptStudioError as exc:
        return exc
    return first_failure(read_calls(db, prompts))


def read_calls(db: Database, prompts: list[library.PromptRow]) -> list[Callable[[], Any]]:
    calls: list[Callable[[], Any]] = [
        lambda: db.call(library.list_folders),
        lambda: db.call(library.list_tags),
        lambda: db.call(library.list_drafts),
        lambda: db.call(library.cache_count),
        lambda: db.call(library.cache_get, "key1"),
        lambda: db.call(library_documents, with_history=True),
        *(functools.partial(db.call, library.search, q) for q in SEARCHES),
    ]
    for prompt in prompts:
        pid = prompt.id
        calls += [
            functools.partial(db.call, library.get_prompt, pid),
            functools.partial(db.call, library.version_history, pid),
            functools.partial(db.call, library.list_labels, pid),
            functools.partial(db.call, library.load_draft, pid),
            functools.partial(db.call, library.list_cases, pid),
            functools.partial(db.call, library.get_eval_settings, pid),
            functools.partial(db.call, library.models_for_prompt, pid),
            functools.partial(_cells_of_every_evaluation, db, pid),
            functools.partial(_runs_of_every_version, db, pid),
        ]
    return calls


def _cells_of_every_evaluation(db: Database, pid: int) -> list[Any]:
    return [db.call(library.eval_cells, run.id) for run in db.call(library.list_eval_runs, pid)]


def _runs_of_every_version(db: Database, pid: int) -> list[Any]:
    return [
        db.call(library.runs_for_version, version.id)
        for version in db.call(library.list_versions, pid)
    ]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "library.sqlite3"
    with Database(path) as db:
        db.call(fill)
    return path


# (offset as a fraction of the file, length, how): the damage a bad disk block, a stray
# write or a torn copy does.
DAMAGE = st.lists(
    st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.integers(1, 64),
        st.sampled_from(["flip", "zero", "random", "truncate"]),
        st.binary(min_size=64, max_size=64),
    ),
    min_size=1,
    max_size=6,
)


def damaged(data: bytes, damage: list[tuple[float, int, str, bytes]]) -> bytes:
    spoilt = bytearray(data)
    for where, length, how, noise in damage:
        at = int(where * len(spoilt))
        if how == "truncate":
            del spoilt[max(at, 1) :]
            continue
        end = min(len(spoilt), at + length)
        for index in range(at, end):
            if how == "flip":
                spoilt[index] ^= 1 << (index % 8)
            elif how == "zero":
                spoilt[index] = 0
            else:
                spoilt[index] = noise[index - at]
    return bytes(spoilt)


@contextmanager
def opened(data: bytes) -> Iterator[tuple[Path, Database | None]]:
    """``data`` as a library file in a temp dir, opened (None when it was refused)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "library.sqlite3"
        path.write_bytes(data)
        db = typed_or_success(Database, path)
        try:
            yield path, db
        finally:
            if db is not None:
                db.close()


@given(DAMAGE)
# Two bits of a search index page: FTS5 said SQLITE_CORRUPT_VTAB, which was not seen as
# damage, so every search raised sqlite3.DatabaseError.
@example([(0.37066938353637324, 2, "flip", bytes(64))])
def test_a_damaged_library_opens_or_says_why(pristine: Path, damage: list) -> None:
    with opened(damaged(pristine.read_bytes(), damage)) as (path, db):
        if db is None:
            return
        read_everything(db)
        db.close()
        again = typed_or_success(Database, path)
        if again is not None:
            with again:
                assert db.recovery is None or again.recovery is None, "recovered twice"
                read_everything(again)


# Byte strings of the pristine file (row contents and the schema's own text) to damage
# one byte of: the damage SQLite's page checks cannot see.
MARKS = [b"ANSWERMARK", b'"VARMARK"', b"judge_prompt", b"asserts", b"Prompt 1 alpha",
         b'"temperature"', b"contains", b"CREATE TABLE prompts"]  # fmt: skip


@given(st.sampled_from(MARKS), st.integers(0, 12), st.integers(0, 255))
@example(b"ANSWERMARK", 0, 0xFF)  # text that is not UTF-8: sqlite3 raised OperationalError
@example(b'"VARMARK"', 8, 0x01)  # a JSON column that no longer parses: JSONDecodeError
@example(b"judge_prompt", 11, ord("X"))  # a renamed column: "no such column" on every read
@example(b"CREATE TABLE prompts", 2, 0x80)  # SQLite's error quotes it: UnicodeDecodeError
def test_one_byte_changed_inside_a_row_or_the_schema(
    pristine: Path, mark: bytes, index: int, value: int
) -> None:
    data = bytearray(pristine.read_bytes())
    at = data.find(mark)
    assert at >= 0, mark
    data[at + index % len(mark)] = value
    with opened(bytes(data)) as (_, db):
        if db is not None:
            assert read_everything(db) is None, "a sound page must stay readable"


@given(st.integers(0, 10**9), st.integers(1, 3))
@example(58418426, 2)  # a search index page: sqlite3.DatabaseError on every search
@example(9045, 1)  # recovery met an SQLite message it could not decode: UnicodeDecodeError
@example(10291, 1)  # an index lists fewer runs than the join finds: KeyError
@example(94, 2)  # a view's text damaged: "no such column: c.template" on every search
@example(446, 2)  # the first read already refuses: a typed error, as it should be
def test_damage_past_the_first_page(pristine: Path, seed: int, count: int) -> None:
    """A few bytes changed anywhere past the header page."""
    rng = random.Random(seed)
    spoilt = bytearray(pristine.read_bytes())
    for _ in range(count):
        spoilt[rng.randrange(4096, len(spoilt))] = rng.randrange(256)
    with opened(bytes(spoilt)) as (_, db):
        if db is not None:
            read_everything(db)


def test_the_pristine_library_reads_whole(pristine: Path, tmp_path: Path) -> None:
    """The fuzz starts from a library every read succeeds on."""
    path = tmp_path / "library.sqlite3"
    shutil.copy(pristine, path)
    with Database(path) as db:
        assert db.recovery is None
        assert len(db.call(library.list_prompts)) == 5
        assert read_everything(db) is None
