"""A damaged library is moved aside and salvaged, never a crash loop.

Damage is real: pages of a real library file overwritten with random bytes (chosen with
SQLite's ``dbstat`` so a test knows which table it hit), a truncated file, random bytes.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from promptstudio.storage import Database, StorageError, library, transaction
from promptstudio.storage import database as database_module
from promptstudio.storage.recovery import RECOVERED_FOLDER
from promptstudio.storage.schema import FTS_TABLES
from tests.storage.helpers import answer as answer_fields
from tests.storage.test_migration import build_library_at

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


@dataclass(frozen=True)
class Seeded:
    path: Path
    prompts: dict[int, str]
    templates: dict[int, str]  # version id -> template
    owners: dict[int, int]  # version id -> prompt id
    responses: dict[int, str]  # response id -> text


def _has_dbstat() -> bool:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("SELECT count(*) FROM dbstat").fetchone()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


needs_dbstat = pytest.mark.skipif(not _has_dbstat(), reason="SQLite built without dbstat")


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """About 1,200 versions over 12 prompts, with runs and responses (built once)."""
    path = tmp_path_factory.mktemp("seed") / "library.sqlite3"
    rng = random.Random(5)
    prompts: dict[int, str] = {}
    templates: dict[int, str] = {}
    owners: dict[int, int] = {}
    responses: dict[int, str] = {}

    def fill(conn: sqlite3.Connection) -> None:
        with transaction(conn):
            ids = []
            for i in range(12):
                prompt = library.create_prompt(conn, f"Prompt {WORDS[i]}", f"Folder {i % 3}")
                prompts[prompt.id] = prompt.name
                ids.append(prompt.id)
            for n in range(1200):
                pid = rng.choice(ids)
                text = " ".join(rng.choices(WORDS, k=rng.randint(50, 400))) + f" v{n}"
                version = library.save_version(conn, pid, text, {"n": n}, {"m": "x"})
                templates[version.id] = text
                owners[version.id] = pid
                if n % 4 == 0:
                    run = library.record_run(conn, version.id, {"n": n})
                    answer = f"answer {n} " + " ".join(rng.choices(WORDS, k=80))
                    responses[
                        library.add_response(
                            conn, run.id, **answer_fields(answer, base_url="u", ttft_ms=1.0,
                            total_ms=2.0, input_tokens=1, output_tokens=1),
                        ).id
                    ] = answer  # fmt: skip

    with Database(path) as db:
        db.call(fill)
    return Seeded(path, prompts, templates, owners, responses)


@pytest.fixture
def seeded(seeded_template: Seeded, tmp_path: Path) -> Seeded:
    path = tmp_path / "library.sqlite3"
    shutil.copy(seeded_template.path, path)
    return Seeded(
        path,
        seeded_template.prompts,
        seeded_template.templates,
        seeded_template.owners,
        seeded_template.responses,
    )


def corrupt_pages(path: Path, table: str, *, count: int = 1, skip: int = 0) -> list[int]:
    """Overwrite ``count`` leaf pages of ``table`` with random bytes; return their numbers."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = [
        pageno
        for (pageno,) in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
            (table,),
        )
    ][skip : skip + count]
    conn.close()
    assert len(pages) == count, f"{table} has too few leaf pages"
    rng = random.Random(99)
    with open(path, "r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(rng.randbytes(page_size))
    return pages


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _all_versions(conn: sqlite3.Connection) -> dict[int, tuple[int, str]]:
    found = conn.execute("SELECT id, prompt_id, template FROM versions").fetchall()
    return {vid: (pid, template) for vid, pid, template in found}


def _salvaged(conn: sqlite3.Connection) -> dict[int, tuple[int, str]]:
    """Versions read back from the damaged file (not placeholders for lost ones)."""
    found = conn.execute(
        """
        SELECT v.id, v.prompt_id, v.template FROM versions v JOIN prompts p ON p.id = v.prompt_id
        WHERE NOT (p.name = 'Recovered runs' AND p.folder = ?)
        """,
        (RECOVERED_FOLDER,),
    ).fetchall()
    return {vid: (pid, template) for vid, pid, template in found}


def _lost_inside_numbering(seeded: Seeded, recovered: dict[int, tuple[int, str]]) -> set[int]:
    """Lost versions that were not the newest of their prompt (those leave a gap)."""
    newest: dict[int, int] = {}
    for vid, pid in seeded.owners.items():
        newest[pid] = max(vid, newest.get(pid, 0))
    return {vid for vid in seeded.templates if vid not in recovered} - set(newest.values())


def _checks(conn: sqlite3.Connection) -> list[str]:
    for table in FTS_TABLES:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    problems = [str(row) for row in conn.execute("PRAGMA foreign_key_check")]
    return problems + [r[0] for r in conn.execute("PRAGMA integrity_check")]


def _reopens_clean(path: Path) -> None:
    with Database(path) as again:
        assert again.recovery is None
        assert again.fully_checked
    assert not list(path.parent.glob("*.recovering*"))


def test_damage_in_the_middle_of_the_file(seeded: Seeded) -> None:
    size = seeded.path.stat().st_size
    with open(seeded.path, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(random.Random(1).randbytes(3 * 4096))
    damaged = _digest(seeded.path)

    with Database(seeded.path) as db:
        report = db.recovery
        assert report is not None
        assert report.original == seeded.path
        assert report.moved_to.name.startswith("library.sqlite3.corrupt-")
        assert _digest(report.moved_to) == damaged  # kept byte for byte
        assert db.call(_checks) == ["ok"]
        recovered = db.call(_salvaged)
        # Whatever came back is exactly what was saved: no garbage rows.
        for vid, (pid, template) in recovered.items():
            assert (pid, template) == (seeded.owners[vid], seeded.templates[vid])
        versions = report.table("versions")
        assert versions is not None and versions.recovered == len(recovered)
        assert len(recovered) >= 0.95 * len(seeded.templates)
        # Lost versions are counted exactly, unless one was the newest of its prompt.
        assert versions.lost == len(_lost_inside_numbering(seeded, recovered))
        # The rebuilt index finds recovered text.
        some_vid = max(recovered)
        marker = recovered[some_vid][1].rsplit(" ", 1)[1]  # "v123"
        assert any(h.version_id == some_vid for h in db.call(library.search, marker))
        assert "damaged" in report.summary()
    _reopens_clean(seeded.path)


@needs_dbstat
def test_a_bad_versions_page_costs_only_the_rows_on_it(seeded: Seeded) -> None:
    corrupt_pages(seeded.path, "versions", count=2, skip=40)
    with Database(seeded.path) as db:
        report = db.recovery
        assert report is not None
        versions = report.table("versions")
        assert versions is not None
        placeholders = {
            p.name: p.id for p in db.call(library.list_prompts, folder=RECOVERED_FOLDER)
        }
        holder = placeholders.get("Recovered runs")
        recovered = db.call(_salvaged)
        lost = set(seeded.templates) - set(recovered)
        assert lost, "the damaged pages held versions"
        assert all(seeded.templates[vid] == t for vid, (_, t) in recovered.items())
        assert versions.recovered == len(recovered)
        assert len(lost) <= 10  # two pages of a table with 1-3 rows a page
        assert versions.unreadable
        assert versions.lost == len(_lost_inside_numbering(seeded, recovered))
        assert not report.complete
        assert f"{versions.lost} versions could not be read" in report.summary()
        # Runs of a lost version hang under a placeholder, their answers intact.
        responses = db.call(lambda c: dict(c.execute("SELECT id, text FROM responses").fetchall()))
        assert responses == seeded.responses
        if holder is not None:
            held = {v.id for v in db.call(library.list_versions, holder)}
            assert held and held <= lost
            assert report.placeholders == 1 + len(held)
        assert db.call(_checks) == ["ok"]
    _reopens_clean(seeded.path)


@needs_dbstat
def test_lost_prompts_become_placeholders_holding_their_versions(seeded: Seeded) -> None:
    corrupt_pages(seeded.path, "prompts")
    with Database(seeded.path) as db:
        report = db.recovery
        assert report is not None
        prompts = report.table("prompts")
        assert prompts is not None and prompts.recovered == 0
        assert report.placeholders == len(seeded.prompts)
        listed = db.call(library.list_prompts)
        assert {p.id for p in listed} == set(seeded.prompts)
        assert {p.folder for p in listed} == {RECOVERED_FOLDER}
        assert db.call(_all_versions) == {
            vid: (seeded.owners[vid], t) for vid, t in seeded.templates.items()
        }
        any_prompt = listed[0].id
        numbers = [v.number for v in db.call(library.list_versions, any_prompt)]
        assert numbers == sorted(numbers, reverse=True) and numbers[-1] == 1
        assert db.call(_checks) == ["ok"]
    _reopens_clean(seeded.path)


def test_a_truncated_file(seeded: Seeded) -> None:
    data = seeded.path.read_bytes()
    seeded.path.write_bytes(data[: len(data) * 6 // 10])
    with Database(seeded.path) as db:
        report = db.recovery
        assert report is not None and report.schema_readable
        assert not report.complete
        recovered = db.call(_salvaged)
        assert recovered, "the first 60% of the file held versions"
        for vid, (pid, template) in recovered.items():
            assert (pid, template) == (seeded.owners[vid], seeded.templates[vid])
        assert db.call(_checks) == ["ok"]
    assert report.moved_to.stat().st_size == len(data) * 6 // 10
    _reopens_clean(seeded.path)


def test_a_file_of_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    noise = random.Random(3).randbytes(300_000)
    path.write_bytes(noise)
    with Database(path) as db:
        report = db.recovery
        assert report is not None
        assert not report.schema_readable
        assert report.rows_recovered == 0
        assert report.moved_to.read_bytes() == noise
        assert "Nothing could be read" in report.summary()
        db.call(library.create_prompt, "a fresh start")
    _reopens_clean(path)


def test_without_recover_a_damaged_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    path.write_bytes(b"These are my notes, not a database.\n" * 200)
    with pytest.raises(StorageError, match="not an SQLite database or is damaged"):
        Database(path, recover=False)
    assert path.read_bytes().startswith(b"These are my notes")
    assert list(tmp_path.iterdir()) == [path]


@needs_dbstat
def test_damage_seen_while_running_is_repaired_at_the_next_start(seeded: Seeded) -> None:
    corrupt_pages(seeded.path, "versions", skip=10)
    with Database(seeded.path, check="light") as db:  # the light check misses it
        assert db.recovery is None and not db.fully_checked
        with pytest.raises(StorageError, match="damaged"):
            for prompt_id in seeded.prompts:
                db.call(library.list_versions, prompt_id)
        assert db.damage is not None
        assert db.needs_check_marker.exists()
    with Database(seeded.path) as db:
        assert db.recovery is not None
        assert not db.needs_check_marker.exists()
    _reopens_clean(seeded.path)


def test_a_big_library_is_fully_checked_only_when_there_is_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "FULL_CHECK_MAX_BYTES", 0)  # everything is "big"
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        db.call(library.create_prompt, "p")
    with Database(path) as db:
        assert not db.fully_checked  # closed cleanly, no sign of damage
        db.needs_check_marker.write_text("seen damage\n")
    with Database(path) as db:
        assert db.fully_checked
        # Another open connection with unwritten-back changes (or a crash) leaves a WAL.
        db.call(library.create_prompt, "q")
        with Database(path) as second:
            assert second.fully_checked
    with Database(path, check="full") as db:
        assert db.fully_checked


@needs_dbstat
def test_recovering_a_library_of_an_older_schema(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    build_library_at(path, 1)
    corrupt_pages(path, "responses")
    with Database(path) as db:
        assert db.recovery is not None
        versions = db.recovery.table("versions")
        assert versions is not None and versions.lost is None  # no numbers to count gaps in
        assert [v.number for v in db.call(library.list_versions, 1)] == [3, 2, 1]
        assert db.call(library.list_folders) == ["Empty", "Work", "Work/Deep"]
        assert [h.version_number for h in db.call(library.search, "bullet")] == [3]
        assert db.call(lambda c: c.execute("SELECT count(*) FROM responses").fetchone()[0]) == 0
    _reopens_clean(path)
