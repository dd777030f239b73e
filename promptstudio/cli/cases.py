"""``promptstudio cases``: a prompt's test cases to and from files.

    promptstudio cases import PROMPT FILE [--dry-run]     the file's cases become the prompt's
    promptstudio cases export PROMPT -o FILE              CSV, JSON Lines or JSON, by suffix

The formats are ``eval --cases``' (:mod:`promptstudio.exchange.case_files`). An import
replaces the prompt's cases as one set, or leaves them alone (ids and all) when the file
holds the same cases; it says which.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from promptstudio.cli.library import emit, find_prompt, open_db


def add_cases_commands(commands: Any, data: argparse.ArgumentParser) -> None:
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--json", action="store_true", help="machine-readable output")
    cases = commands.add_parser("cases", parents=[data], help="a prompt's test cases as files")
    actions = cases.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser("import", parents=[data, out],
                              help="make a file's test cases the prompt's")  # fmt: skip
    load.add_argument("prompt", metavar="PROMPT", help="a prompt's name or id")
    load.add_argument("file", metavar="FILE", help=".csv, .jsonl, .ndjson or .json")
    load.add_argument("--dry-run", action="store_true", help="read and check, store nothing")
    load.set_defaults(handler=_import_cases)
    save = actions.add_parser("export", parents=[data], help="write the prompt's test cases")
    save.add_argument("prompt", metavar="PROMPT", help="a prompt's name or id")
    save.add_argument("--output", "-o", metavar="FILE", required=True,
                      help=".csv, .jsonl, .ndjson or .json (by its suffix)")  # fmt: skip
    save.set_defaults(handler=_export_cases)


def _import_cases(args: argparse.Namespace) -> int:
    from promptstudio.exchange.case_files import cases_from_file
    from promptstudio.exchange.library_io import case_shape
    from promptstudio.storage import library

    path = Path(args.file)
    cases = cases_from_file(path)
    with open_db(args) as db:
        prompt = db.call(find_prompt, args.prompt)
        before = [case.to_exchange() for case in db.call(library.list_cases, prompt.id)]
        unchanged = before == [case_shape(case) for case in cases]
        if not unchanged and not args.dry_run:
            db.call(library.replace_cases, prompt.id, cases)
    count = f"{len(cases)} test case{'' if len(cases) == 1 else 's'}"
    if unchanged:
        line = f"{prompt.name}: unchanged, it already has these {count}"
    elif args.dry_run:
        line = f"{prompt.name}: would replace its {len(before)} test cases with {count}"
    else:
        line = f"{prompt.name}: {count} from {path.name} (replacing {len(before)})"
    data = {"prompt_id": prompt.id, "prompt": prompt.name, "file": str(path),
            "cases": len(cases), "replaced": len(before), "changed": not unchanged,
            "dry_run": args.dry_run}  # fmt: skip
    emit(args, data, [line])
    return 0


def _export_cases(args: argparse.Namespace) -> int:
    from promptstudio.exchange.case_files import cases_to_file
    from promptstudio.storage import library

    path = Path(args.output)
    with open_db(args) as db:
        prompt = db.call(find_prompt, args.prompt)
        cases = [case.to_exchange() for case in db.call(library.list_cases, prompt.id)]
        latest = db.call(library.latest_version, prompt.id)
    variables = list(latest.variables) if latest is not None else []
    cases_to_file(path, cases, variables)
    count = f"{len(cases)} test case{'' if len(cases) == 1 else 's'}"
    print(f"wrote {count} of {prompt.name} to {path}", file=sys.stderr)
    return 0
