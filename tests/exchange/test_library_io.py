"""Between files and the library: all-or-nothing imports, stable library exports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.exchange import ExchangeError, PromptDocument, to_json
from promptstudio.exchange.formats import EXPORT_FORMATS, export_text, import_file, safe_file_stem
from promptstudio.exchange.library_io import (
    document_for,
    import_documents,
    library_documents,
    library_file_names,
    read_import_files,
    write_library,
    write_text_atomically,
)
from promptstudio.storage import Database, SecretFieldError, library
from tests.exchange.samples import sample_document


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def test_an_import_is_all_or_nothing(db: Database) -> None:
    good = PromptDocument(name="Good", template="user:\nhi")
    leaky = PromptDocument(name="Leaky", template="x", variables={"api_key": "sk-123"})
    with pytest.raises(SecretFieldError):
        db.call(import_documents, [good, leaky])
    assert db.call(library.count_prompts) == 0


def test_a_document_comes_back_as_it_went_in(db: Database) -> None:
    doc = sample_document()
    doc.tags.sort()
    doc.versions = [
        {"number": 1, "template": "user:\nold", "variables": {}, "settings": {},
         "message": "first try"},
    ]  # fmt: skip
    [stored] = db.call(import_documents, [doc])
    assert stored.created and stored.version.number == 2
    back = db.call(document_for, stored.prompt.id, with_history=True)
    assert back.versions is not None
    assert [v["message"] for v in back.versions] == ["first try", doc.description]
    back.versions = doc.versions = None
    assert back == doc
    old = db.call(library.get_version_by_number, stored.prompt.id, 1)
    assert db.call(document_for, stored.prompt.id, old.id).template == "user:\nold"


def test_update_existing_adds_a_version_and_replaces_cases(db: Database) -> None:
    first = PromptDocument(name="P", folder="F", template="one",
                           cases=[{"vars": {"a": 1}}, {"vars": {"a": 2}}])  # fmt: skip
    [created] = db.call(import_documents, [first])
    second = PromptDocument(name="p", folder="F", template="two", cases=[{"vars": {"a": 3}}])
    [updated] = db.call(import_documents, [second], update_existing=True)
    assert updated.prompt.id == created.prompt.id and not updated.created
    assert updated.version.number == 2
    assert [c.vars for c in db.call(library.list_cases, created.prompt.id)] == [{"a": 3}]
    [copy] = db.call(import_documents, [second])
    assert copy.prompt.name == "p (2)"


def test_documents_without_a_folder_take_the_one_given(db: Database) -> None:
    docs = [PromptDocument(name="A", template="a"), PromptDocument(name="B", folder="Own")]
    stored = db.call(import_documents, docs, folder="Imported")
    assert [s.prompt.folder for s in stored] == ["Imported", "Own"]


def test_reading_files_lists_every_problem_and_keeps_nothing(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("user:\nfine")
    (tmp_path / "binary.j2").write_bytes(b"user:\n\x00\x01")
    (tmp_path / "latin.txt").write_bytes(b"line one\ncaf\xe9")
    (tmp_path / "broken.json").write_text('{"format_version": 1,\n "name": }')
    with pytest.raises(ExchangeError) as caught:
        read_import_files([tmp_path])
    message = caught.value.message
    assert message.startswith("3 of 4 files cannot be imported, so nothing was imported")
    assert "binary.j2, line 2: The file holds binary data" in message
    assert "latin.txt, line 2: The file is not UTF-8" in message
    assert "broken.json, line 2" in message


def test_an_enormous_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.prompty"
    with path.open("wb") as handle:  # sparse: no disk is spent
        handle.truncate(11 * 1024 * 1024)
    with pytest.raises(ExchangeError, match=r"huge.prompty: The file is 11.0 MB"):
        import_file(path)
    with pytest.raises(ExchangeError, match="cannot be read"):
        import_file(tmp_path / "missing.prompty")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.docx").write_bytes(b"PK")  # a suffix we do not read
    with pytest.raises(ExchangeError, match="no files to import"):
        read_import_files([tmp_path / "empty"])


def test_library_file_names_are_safe_unique_and_stable() -> None:
    docs = [
        PromptDocument(name="Report", folder="Work"),
        PromptDocument(name="report", folder="Work"),  # differs only in case
        PromptDocument(name="a/b: c?", folder="x:y/z"),
        PromptDocument(name="CON"),
        PromptDocument(name="  "),
    ]
    names = library_file_names(docs, "prompty")
    assert names == [
        "Work/Report.prompty",
        "Work/report-2.prompty",
        "x-y/z/a-b- c-.prompty",
        "_CON.prompty",
        "prompt.prompty",
    ]
    assert library_file_names(docs, "prompty") == names
    assert safe_file_stem("x" * 200) == "x" * 80


def test_writing_the_library_skips_unchanged_files_and_can_be_cancelled(
    db: Database, tmp_path: Path
) -> None:
    for name in ("A", "B", "C"):
        db.call(import_documents, [PromptDocument(name=name, template=f"user:\n{name}")])
    docs = [doc for _, doc in db.call(library_documents)]
    out = tmp_path / "out"
    written = write_library(docs, out, "json")
    assert [p.name for p in written] == ["A.json", "B.json", "C.json"]
    assert (out / "B.json").read_text() == to_json(docs[1])
    os.utime(out / "A.json", (1, 1))
    write_library(docs, out, "json")
    assert (out / "A.json").stat().st_mtime == 1  # same content: not rewritten
    calls: list[int] = []
    partial = write_library(docs, tmp_path / "cancelled", "json",
                            progress=lambda done, _total: calls.append(done),
                            cancelled=lambda: len(calls) >= 1)  # fmt: skip
    assert len(partial) == 1
    with pytest.raises(ExchangeError, match="can be exported as one of"):
        write_library(docs, out, "curl")


def test_every_format_exports_through_the_table() -> None:
    doc = sample_document()
    for key, fmt in EXPORT_FORMATS.items():
        text = export_text(doc, key, {**doc.variables}, 0)
        assert text, key
        assert fmt.suffix.startswith(".")
    with pytest.raises(ExchangeError, match="Unknown export format"):
        export_text(doc, "docx")
    with pytest.raises(ExchangeError, match="no column 9"):
        export_text(doc, "curl", column=8)


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_exported_files_get_the_umask_permissions_not_0600(
    tmp_path: Path, umask: int, expected: int
) -> None:
    """An export is readable as any file the user writes (issue 14, point 27)."""
    before = os.umask(umask)
    try:
        path = tmp_path / "prompt.prompty"
        write_text_atomically(path, "user:\nHello")
        assert path.stat().st_mode & 0o777 == expected
        os.chmod(path, 0o640)  # a file the user made stricter keeps its bits
        write_text_atomically(path, "user:\nHello again")
        assert path.read_text(encoding="utf-8") == "user:\nHello again"
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(before)
