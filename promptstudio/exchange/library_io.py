"""Between the library and files: documents from stored prompts, and imports stored whole.

The ``conn`` functions run on the database thread (``db.call(document_for, ...)``).
:func:`import_documents` stores every document of an import in one transaction, so a
failure part-way leaves the library as it was. :func:`write_library` writes one file per
prompt under a folder tree mirroring the library's, with names that do not change from
one export to the next, so the folder can live in git.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptstudio.exchange.document import PromptDocument, version_settings
from promptstudio.exchange.errors import ExchangeError, OutsideReferenceError
from promptstudio.exchange.formats import (
    EXPORT_FORMATS,
    IMPORT_SUFFIXES,
    export_text,
    import_file,
    safe_file_stem,
)
from promptstudio.exchange.promptfoo_format import chat_prompt
from promptstudio.storage import library
from promptstudio.storage.rows import PromptRow, VersionRow
from promptstudio.storage.transaction import transaction


@dataclass(frozen=True, slots=True)
class ImportedPrompt:
    prompt: PromptRow
    version: VersionRow
    created: bool
    """False when an existing prompt of the same name got a new version instead."""
    changed: tuple[str, ...] = ("version", "tags", "cases")  # a new prompt: all of it
    """What the import changed in that existing prompt: "version", "tags", "cases";
    empty when the prompt already held it all (no version was made)."""


def document_for(
    conn: sqlite3.Connection,
    prompt_id: int,
    version_id: int | None = None,
    *,
    with_history: bool = False,
) -> PromptDocument:
    """The document for a stored version of a prompt (its latest when ``version_id`` is None).

    ``with_history`` adds every version, oldest first (only the JSON format carries them).
    """
    prompt = library.get_prompt(conn, prompt_id)
    version = (
        library.get_version(conn, version_id)
        if version_id is not None
        else library.latest_version(conn, prompt_id)
    )
    if version is not None and version.prompt_id != prompt_id:
        raise ExchangeError(f"Version {version_id} does not belong to “{prompt.name}”.")
    if version is None:
        doc = PromptDocument(name=prompt.name, folder=prompt.folder, tags=list(prompt.tags))
    else:
        doc = PromptDocument.from_library(prompt, version)
    doc.cases = [case.to_exchange() for case in library.list_cases(conn, prompt_id)]
    checks = library.get_eval_settings(conn, prompt_id)
    doc.every_case_checks, doc.judge_column = list(checks.asserts), checks.judge_column
    if with_history:
        doc.versions = [
            {
                "number": v.number,
                "template": v.template,
                "variables": v.variables,
                "settings": v.settings,
                "message": v.message,
                "kind": v.kind,
                "created_at": v.created_at,
            }
            for v in reversed(library.list_versions(conn, prompt_id))
        ]
    return doc


def library_documents(
    conn: sqlite3.Connection, *, with_history: bool = False
) -> list[tuple[int, PromptDocument]]:
    """Every prompt outside the trash as (prompt id, document), in a stable order."""
    prompts = sorted(
        library.list_prompts(conn),
        key=lambda p: (p.folder.casefold(), p.name.casefold(), p.id),
    )
    return [(p.id, document_for(conn, p.id, with_history=with_history)) for p in prompts]


def import_documents(
    conn: sqlite3.Connection,
    docs: Sequence[PromptDocument],
    *,
    folder: str | None = None,
    update_existing: bool = False,
    source: str = "",
) -> list[ImportedPrompt]:
    """Store ``docs`` as prompts, all in one transaction (nothing is stored if one fails).

    A document goes to its own folder, or to ``folder`` when it names none. With
    ``update_existing`` a prompt of the same name in that folder gets the document as a
    new version (its tags and test cases replaced); otherwise a new prompt is made, its
    name made unique with " (2)", " (3)"… ``source`` (a file name) goes into the version
    message. Versions carried by the document are replayed first, oldest first.
    """
    imported: list[ImportedPrompt] = []
    with transaction(conn):
        for doc in docs:
            target = library.normalise_folder(doc.folder or folder or "")
            existing = _existing(conn, doc.name, target) if update_existing else None
            if existing is None:
                prompt = library.create_prompt(conn, _unique_name(conn, doc.name, target), target)
            else:
                prompt = existing
            before = _state(conn, prompt.id) if existing is not None else None
            for old in _new_history(conn, prompt.id, doc.versions or []):
                _replay(conn, prompt.id, old)
            message = doc.description or (f"Imported from {source}" if source else "Imported")
            version = library.save_version(
                conn,
                prompt.id,
                _stored_form(conn, prompt.id, doc.template),
                doc.variables,
                version_settings(doc.columns, doc.tools) if doc.columns or doc.tools else {},
                message=message,
                kind="import",
                images=doc.images or None,
            )
            if doc.tags or existing is not None:
                library.set_tags(conn, prompt.id, doc.tags)
            cases = [case_shape(case) for case in doc.cases]
            # The same cases again are left alone: they keep their ids (evaluations of
            # earlier versions line up with them by id).
            if (doc.cases and existing is None) or (before is not None and before[2] != cases):
                library.replace_cases(conn, prompt.id, doc.cases)
            after = _state(conn, prompt.id)
            changed: tuple[str, ...] = ("version", "tags", "cases")
            if before is not None:
                parts = zip(changed, before, after, strict=True)
                changed = tuple(name for name, was, now in parts if was != now)
            imported.append(
                ImportedPrompt(
                    library.get_prompt(conn, prompt.id), version, existing is None, changed
                )
            )
    return imported


def _stored_form(conn: sqlite3.Connection, prompt_id: int, template: str) -> str:
    """The latest version's template when ``template`` sends the same messages written
    another way (a promptfoo chat list read back as ``user:`` lines), so importing what
    was exported makes no new version; otherwise ``template``."""
    latest = library.latest_version(conn, prompt_id)
    if latest is None or latest.template == template:
        return template
    return latest.template if chat_prompt(latest.template) == chat_prompt(template) else template


def _state(conn: sqlite3.Connection, prompt_id: int) -> tuple[object, ...]:
    """What an import may change in a prompt: its latest version, tags and cases."""
    latest = library.latest_version(conn, prompt_id)
    return (
        None if latest is None else latest.id,
        library.get_prompt(conn, prompt_id).tags,
        [case.to_exchange() for case in library.list_cases(conn, prompt_id)],
    )


def case_shape(case: dict[str, Any]) -> dict[str, Any]:
    """A document's case as the library gives it back (``CaseRow.to_exchange``)."""
    shaped: dict[str, Any] = {"vars": dict(case.get("vars") or {})}
    if case.get("description"):
        shaped["description"] = str(case["description"])
    if case.get("expected") is not None:
        shaped["expected"] = str(case["expected"])
    if case.get("assert"):
        shaped["assert"] = [dict(check) for check in case["assert"]]
    return shaped


def _existing(conn: sqlite3.Connection, name: str, folder: str) -> PromptRow | None:
    wanted = name.strip().casefold()
    return next(
        (
            p
            for p in library.list_prompts(conn, folder=folder)
            if p.folder == folder and p.name.casefold() == wanted
        ),
        None,
    )


def _unique_name(conn: sqlite3.Connection, name: str, folder: str) -> str:
    base = name.strip() or "Imported prompt"
    taken = {
        p.name.casefold() for p in library.list_prompts(conn, folder=folder) if p.folder == folder
    }
    candidate, number = base, 2
    while candidate.casefold() in taken:
        candidate = f"{base} ({number})"
        number += 1
    return candidate


def _new_history(
    conn: sqlite3.Connection, prompt_id: int, versions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The versions a document carries that the prompt's history does not already begin
    with (an export with history imported back with --update adds none again)."""
    stored = list(reversed(library.list_versions(conn, prompt_id)))
    kept = 0
    for old, have in zip(versions, stored, strict=False):
        same = (old.get("template"), old.get("variables", {}), old.get("settings", {})) == (
            have.template,
            have.variables,
            have.settings,
        )
        if not same:
            break
        kept += 1
    return versions[kept:]


def _replay(conn: sqlite3.Connection, prompt_id: int, old: dict[str, Any]) -> None:
    template = old.get("template")
    variables = old.get("variables", {})
    settings = old.get("settings", {})
    if not isinstance(template, str) or not isinstance(variables, dict):
        raise ExchangeError("Each stored version needs a 'template' text and 'variables'.")
    if not isinstance(settings, dict):
        raise ExchangeError("A stored version's 'settings' must be an object.")
    message = old.get("message") or ""
    number = old.get("number")
    library.save_version(
        conn,
        prompt_id,
        template,
        variables,
        settings,
        message=str(message) or (f"Imported version {number}" if number else "Imported"),
        kind="import",
    )


# -- files in ----------------------------------------------------------------------------

MAX_LISTED_PROBLEMS = 12


def importable_files(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """Each file to import, with the library folder its place in a folder tree suggests.

    A folder is walked in sorted order; there, files with suffixes we do not read and
    hidden files and folders are skipped (a file named on its own is always read).
    """
    found: list[tuple[Path, str]] = []
    for path in paths:
        if not path.is_dir():
            found.append((path, ""))
            continue
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if file.is_file() and file.suffix.lower() in IMPORT_SUFFIXES:
                found.append((file, "/".join(relative.parts[:-1])))
    return found


def read_import_files(
    paths: Sequence[Path],
    *,
    folder: str = "",
    progress: Callable[[int, int], None] | None = None,
    allow_outside_refs: bool = False,
) -> list[tuple[Path, PromptDocument]]:
    """Read and check every file first: the documents, or one error listing every problem.

    Documents naming no folder go to ``folder`` (plus their sub-folder within a folder
    that was given), so an imported tree keeps its shape. Files a config refers to outside
    its own folder are not read unless ``allow_outside_refs``; when they are the only
    problem, the error is an :class:`OutsideReferenceError` naming them all, so a caller
    can ask whether to read them.
    """
    files = importable_files(paths)
    if not files:
        raise ExchangeError("There are no files to import there (.prompty, .json, .yaml, "
                            ".md, .txt, .j2).")  # fmt: skip
    found: list[tuple[Path, PromptDocument]] = []
    problems: list[str] = []
    outside_only = True
    outside: list[str] = []  # the references of files refused only for leading outside
    for index, (path, subfolder) in enumerate(files, start=1):
        try:
            docs = import_file(path, allow_outside_refs=allow_outside_refs)
        except ExchangeError as exc:
            problems.append(exc.in_file(str(path)).message)
            if isinstance(exc, OutsideReferenceError):
                outside.extend(exc.references)
            else:
                outside_only = False
            continue
        finally:
            if progress is not None:
                progress(index, len(files))
        for doc in docs:
            if not doc.folder:
                doc.folder = "/".join(part for part in (folder, subfolder) if part)
            found.append((path, doc))
    if problems:
        listed = problems[:MAX_LISTED_PROBLEMS]
        if len(problems) > len(listed):
            listed.append(f"… and {len(problems) - len(listed)} more")
        count = f"{len(problems)} of {len(files)} files" if len(files) > 1 else "The file"
        message = f"{count} cannot be imported, so nothing was imported:\n" + "\n".join(listed)
        if outside_only:
            raise OutsideReferenceError(message, tuple(dict.fromkeys(outside)))
        raise ExchangeError(message)
    return found


# -- a whole library to a folder -----------------------------------------------------------


def library_file_names(docs: Sequence[PromptDocument], key: str) -> list[str]:
    """A relative path per document (``folder/sub/Name.prompty``), unique ignoring case.

    Names depend only on the documents' folders and names and their order (which
    :func:`library_documents` keeps stable), so exporting again rewrites the same files.
    """
    suffix = EXPORT_FORMATS[key].suffix
    taken: set[str] = set()
    names: list[str] = []
    for doc in docs:
        parts = [safe_file_stem(part) for part in doc.folder.split("/") if part.strip()]
        stem = "/".join([*parts, safe_file_stem(doc.name)])
        candidate, number = stem + suffix, 2
        while candidate.casefold() in taken:
            candidate = f"{stem}-{number}{suffix}"
            number += 1
        taken.add(candidate.casefold())
        names.append(candidate)
    return names


def write_library(
    docs: Sequence[PromptDocument],
    folder: Path,
    key: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[Path]:
    """Write one file per document under ``folder``; return the files written.

    Each file is replaced atomically; a file whose content is already right is left
    alone. Code formats are refused (they are per column, not per prompt).
    """
    fmt = EXPORT_FORMATS.get(key)
    if fmt is None or not fmt.whole_library:
        usable = ", ".join(k for k, f in EXPORT_FORMATS.items() if f.whole_library)
        raise ExchangeError(f"A library can be exported as one of: {usable}.")
    written: list[Path] = []
    names = library_file_names(docs, key)
    for index, (doc, name) in enumerate(zip(docs, names, strict=True)):
        if cancelled is not None and cancelled():
            break
        path = folder / name
        write_text_atomically(path, export_text(doc, key))
        written.append(path)
        if progress is not None:
            progress(index + 1, len(docs))
    return written


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a crash leaves no half file.

    The file gets the permissions a plain ``open(path, "w")`` would give (0666 less the
    umask, or those of the file it replaces), not the 0600 of a temporary file.
    """
    data = text.encode("utf-8")
    try:
        if path.is_file() and path.read_bytes() == data:
            return
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o666 & ~_umask()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".promptstudio-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise ExchangeError(f"{path}: cannot be written ({exc.strerror or exc}).") from exc


def _umask() -> int:
    """The process's umask, read without changing it where the system tells (Linux)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and put back at once
    os.umask(mask)
    return mask


__all__ = [
    "ImportedPrompt",
    "document_for",
    "import_documents",
    "importable_files",
    "library_documents",
    "library_file_names",
    "read_import_files",
    "write_library",
    "write_text_atomically",
]
