"""``promptstudio export`` and ``promptstudio import``: prompts as files, both ways.

    promptstudio export PROMPT [--format F] [-o FILE]      one prompt (stdout without -o)
    promptstudio export --all -o DIR [--format F]          the library, one file per prompt
    promptstudio import FILE|DIR... [--folder F] [--update] [--dry-run] [--allow-outside-refs]

An import reads and checks every file first and stores them all in one transaction, so a
bad file anywhere means nothing is stored. Progress goes to stderr; ``--json`` prints
what was done.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from promptstudio.cli import CliError
from promptstudio.cli.library import emit, find_prompt, open_db
from promptstudio.cli.options import whole

# The keys of exchange.formats.EXPORT_FORMATS (a test keeps them equal): spelled out so
# building the parser does not import every exporter (start-up time of the GUI).
FORMAT_NAMES = (
    "prompty", "promptfoo", "json", "markdown", "template", "python-openai",
    "python-anthropic", "curl",
)  # fmt: skip


def add_exchange_commands(commands: Any, data: argparse.ArgumentParser) -> None:
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--json", action="store_true", help="machine-readable output")

    export = commands.add_parser(
        "export", parents=[data], help="write a prompt (or the library) as a file"
    )
    export.add_argument("prompt", metavar="PROMPT", nargs="?", help="a prompt's name or id")
    export.add_argument("--all", action="store_true", help="every prompt, into the folder -o")
    export.add_argument("--format", "-f", choices=FORMAT_NAMES, metavar="FORMAT",
                        help="one of: " + ", ".join(FORMAT_NAMES)
                        + " (default: from -o's suffix, else prompty)")  # fmt: skip
    export.add_argument("--output", "-o", metavar="PATH", help="file (or folder with --all)")
    export.add_argument("--version", type=whole(), metavar="N", help="a stored version number")
    export.add_argument("--history", action="store_true", help="JSON: include every version")
    export.add_argument("--column", type=whole(), default=1, metavar="N",
                        help="code formats: the run column to use (1 = first)")  # fmt: skip
    export.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="code formats: a value to render with")  # fmt: skip
    export.set_defaults(handler=_export)

    load = commands.add_parser(
        "import", parents=[data, out], help="add prompts from files (all or nothing)"
    )
    load.add_argument("paths", metavar="FILE|DIR", nargs="+",
                      help=".prompty, .json, promptfoo .yaml, .md, .txt, .j2; "
                      "a folder is read recursively")  # fmt: skip
    load.add_argument("--folder", default="", help="library folder for prompts naming none")
    load.add_argument("--update", action="store_true",
                      help="a prompt of the same name and folder gets a new version "
                      "instead of a new prompt")  # fmt: skip
    load.add_argument("--dry-run", action="store_true", help="check and list, store nothing")
    load.add_argument("--allow-outside-refs", action="store_true",
                      help="read files a promptfoo config names outside its own folder "
                      "(../, absolute paths, links leading out); refused otherwise")  # fmt: skip
    load.set_defaults(handler=_import)


def _export(args: argparse.Namespace) -> int:
    from promptstudio.exchange.formats import EXPORT_FORMATS

    key = args.format or _format_from_suffix(args.output)
    if args.all:
        if args.prompt:
            raise CliError("give a PROMPT or --all, not both", exit_code=2)
        if not args.output:
            raise CliError("--all needs -o FOLDER", exit_code=2)
        return _export_library(args, key)
    if not args.prompt:
        raise CliError("name a PROMPT to export, or use --all -o FOLDER", exit_code=2)
    from promptstudio.exchange.formats import export_text
    from promptstudio.exchange.library_io import document_for, write_text_atomically
    from promptstudio.storage import library

    with open_db(args) as db:
        prompt = db.call(find_prompt, args.prompt)
        version_id = None
        if args.version is not None:
            version_id = db.call(library.get_version_by_number, prompt.id, args.version).id
        doc = db.call(document_for, prompt.id, version_id, with_history=args.history)
    doc.profiles = _profiles(args)
    from promptstudio.cli import parse_values

    values = {**doc.variables, **parse_values(args.var)}
    text = export_text(doc, key, values, args.column - 1)
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    write_text_atomically(path, text)
    print(f"wrote {path} ({EXPORT_FORMATS[key].label})", file=sys.stderr)
    return 0


def _export_library(args: argparse.Namespace, key: str) -> int:
    from promptstudio.exchange.library_io import library_documents, write_library

    with open_db(args) as db:
        docs = [doc for _, doc in db.call(library_documents, with_history=args.history)]
    profiles = _profiles(args)
    for doc in docs:
        doc.profiles = profiles
    folder = Path(args.output)

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    written = write_library(docs, folder, key, progress=progress)
    if written:
        print(file=sys.stderr)
    print(f"wrote {len(written)} prompts to {folder}", file=sys.stderr)
    return 0


def _profiles(args: argparse.Namespace) -> list[Any]:
    """The provider profiles, so a column on a custom profile exports as its real kind."""
    from promptstudio.paths import data_dir
    from promptstudio.settings.profiles import ProfileStore

    store = ProfileStore(data_dir(args.data_dir))
    store.load()
    return store.profiles(include_hidden=True)


def _format_from_suffix(output: str | None) -> str:
    from promptstudio.exchange.formats import EXPORT_FORMATS

    if output and output != "-":
        suffix = Path(output).suffix.lower()
        for key, fmt in EXPORT_FORMATS.items():
            if fmt.suffix == suffix and fmt.whole_library:
                return key
        if suffix in (".yml",):
            return "promptfoo"
        if suffix in (".txt", ".jinja", ".jinja2"):
            return "template"
    return "prompty"


def _import(args: argparse.Namespace) -> int:
    from promptstudio.exchange.library_io import import_documents, read_import_files

    def progress(done: int, total: int) -> None:
        print(f"\rreading {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        docs = read_import_files([Path(p) for p in args.paths], folder=args.folder,
                                 progress=progress,
                                 allow_outside_refs=args.allow_outside_refs)  # fmt: skip
    finally:
        print(file=sys.stderr)
    data: list[dict[str, Any]] = [{"file": str(path), "name": doc.name, "folder": doc.folder,
             "cases": len(doc.cases), "columns": len(doc.columns), "notes": list(doc.notes)}
            for path, doc in docs]  # fmt: skip
    if not args.dry_run:
        with open_db(args) as db:
            imported = db.call(
                import_documents, [doc for _, doc in docs], update_existing=args.update
            )
        for entry, result in zip(data, imported, strict=True):
            entry |= {"prompt_id": result.prompt.id, "stored_as": result.prompt.name,
                      "version": result.version.number, "created": result.created,
                      "changed": list(result.changed)}  # fmt: skip
    verb = "would import" if args.dry_run else "imported"
    lines = []
    for entry in data:
        where = f"{entry['folder']}/" if entry["folder"] else ""
        line = f"{verb} {entry['file']} → {where}{entry.get('stored_as', entry['name'])}"
        changed = entry.get("changed", ())
        if entry.get("created", True):
            pass
        elif not changed:
            line += f" (unchanged: v{entry['version']} already holds it)"
        elif "version" in changed:
            line += f" (new version v{entry['version']})"
        else:
            line += f" (v{entry['version']} kept; {' and '.join(changed)} replaced)"
        lines.append(line)
        lines += [f"  note: {note}" for note in entry["notes"]]
    emit(args, data, lines)
    return 0
