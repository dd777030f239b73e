"""The ``promptstudio`` command: the GUI by default, and headless commands on the same core.

    promptstudio [--data-dir DIR]                      open the app
    promptstudio render FILE [--var NAME=VALUE]...     print the messages as JSON
    promptstudio run FILE --base-url URL --model NAME  stream an answer and record it
    promptstudio history PROMPT | search QUERY         the library, from the terminal
    promptstudio providers list|add|remove             provider profiles
    promptstudio keys set|delete|status                keys (read from stdin, never shown)

Qt is imported only for the GUI, so the headless commands start fast and run anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promptstudio import APP_NAME, __version__
from promptstudio.errors import PromptStudioError

if TYPE_CHECKING:
    from promptstudio.chat import Message
    from promptstudio.runs import RunSession, TargetResult

log = logging.getLogger("promptstudio.cli")
MAX_TEMPLATE_BYTES = 10 * 1024 * 1024


class CliError(PromptStudioError):
    """A failure reported as one line on stderr with a non-zero exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="promptstudio", description=f"{APP_NAME} {__version__}")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data-dir", metavar="DIR", help="where the library lives")
    parser.add_argument("--data-dir", metavar="DIR", help="where the library lives")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("gui", parents=[data], help="open the app (the default)")

    variables = argparse.ArgumentParser(add_help=False)
    variables.add_argument("file", metavar="FILE", help="a template file")
    variables.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE",
        help="a variable; JSON arrays, objects, numbers and booleans are parsed",
    )  # fmt: skip

    commands.add_parser(
        "render", parents=[data, variables], help="render a template to its messages (JSON)"
    )
    run = commands.add_parser(
        "run", parents=[data, variables], help="run a template on a model and record it"
    )
    run.add_argument("--base-url", required=True, help="e.g. http://localhost:11434/v1")
    run.add_argument("--model", required=True)
    run.add_argument("--prompt", metavar="NAME", help="library prompt to record under")
    run.add_argument("--temperature", type=float)
    run.add_argument("--top-p", type=float)
    run.add_argument("--max-tokens", type=int)
    run.add_argument("--seed", type=int)
    run.add_argument("--stop", action="append", default=[], metavar="TEXT")
    run.add_argument("--timeout", type=float, default=120.0, help="seconds to the first token")
    run.add_argument("--json", action="store_true", help="print a JSON summary, not the text")
    from promptstudio.cli_commands import add_commands

    add_commands(commands, data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.WARNING)  # the log file (GUI) takes INFO; the terminal doesn't
    stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(stderr)
    logging.getLogger().setLevel(logging.WARNING)
    from promptstudio.credentials import install_redaction

    install_redaction()
    try:
        if args.command in (None, "gui"):
            return _gui(args)
        if args.command == "render":
            return _render(args)
        if args.command == "run":
            return _run(args)
        from promptstudio.cli_commands import run_command

        return run_command(args)
    except CliError as exc:
        print(f"promptstudio: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except PromptStudioError as exc:
        print(f"promptstudio: {exc.message}", file=sys.stderr)
        return 1


def _gui(args: argparse.Namespace) -> int:
    from promptstudio.paths import data_dir

    try:
        from promptstudio.ui.app import run_app
    except ImportError as exc:  # e.g. missing system libraries for Qt
        raise CliError(f"the GUI cannot start: {exc}") from exc
    from promptstudio.logs import configure_logging

    screenshot = Path(args.screenshot).resolve() if args.screenshot else None
    root = data_dir(args.data_dir)
    configure_logging(root)
    return run_app(root, smoke=args.smoke, screenshot=screenshot)


def _read_template(file: str) -> str:
    path = Path(file)
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise CliError(f"{file}: too large for a template ({size:,} bytes)")
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{file}: {exc.strerror or exc}") from exc
    if b"\0" in raw:
        raise CliError(f"{file}: this is a binary file, not a template")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CliError(f"{file}:{line}: not valid UTF-8 text") from exc


def _values(assignments: Sequence[str]) -> dict[str, object]:
    from promptstudio.values import parse_assignment

    values: dict[str, object] = {}
    for text in assignments:
        try:
            name, value = parse_assignment(text)
        except ValueError as exc:
            raise CliError(f"--var: {exc}", exit_code=2) from exc
        values[name] = value
    return values


def _messages(args: argparse.Namespace) -> tuple[str, dict[str, object], list[Message]]:
    from promptstudio import templating

    values = _values(args.var)  # usage errors first, before touching the file
    source = _read_template(args.file)
    try:
        return source, values, templating.render_messages(source, values)
    except templating.TemplateError as exc:
        raise CliError(f"{args.file}:{exc.line}:{exc.column}: {exc.message}") from exc


def _render(args: argparse.Namespace) -> int:
    *_, messages = _messages(args)
    json.dump({"messages": [m.to_dict() for m in messages]}, sys.stdout, ensure_ascii=False,
              indent=2)  # fmt: skip
    sys.stdout.write("\n")
    return 0


def _run(args: argparse.Namespace) -> int:
    from promptstudio.credentials import KeyStore
    from promptstudio.paths import data_dir, database_path
    from promptstudio.providers import Endpoint, GenerationParams
    from promptstudio.runs import RunSession, RunTarget, TargetStatus
    from promptstudio.runs.stored import response_fields
    from promptstudio.storage import Database, library

    source, values, messages = _messages(args)
    params = GenerationParams(
        temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens,
        stop=tuple(args.stop), seed=args.seed,
    )  # fmt: skip
    base_url = args.base_url.rstrip("/")
    key = KeyStore().resolve(base_url)
    endpoint = Endpoint(base_url=base_url, api_key=key.value, first_token_timeout=args.timeout)
    target = RunTarget(key="cli", endpoint=endpoint, model=args.model, params=params)
    settings = {"columns": [{"base_url": base_url, "model": args.model,
                             "params": params.to_dict()}]}  # fmt: skip
    name = args.prompt or Path(args.file).stem

    with Database(database_path(data_dir(args.data_dir))) as db:
        prompt = next((p for p in db.call(library.list_prompts) if p.name == name), None)
        if prompt is None:
            prompt = db.call(library.create_prompt, name, "CLI")
        version = db.call(library.save_version, prompt.id, source, values, settings, kind="run")
        run_row = db.call(library.record_run, version.id, values)

        def on_update(_key: str, _result: object, delta: str) -> None:
            if delta and not args.json:
                sys.stdout.write(delta)
                sys.stdout.flush()

        session = RunSession(messages, [target], on_update=on_update)
        print(f"→ {args.model} at {base_url}", file=sys.stderr)
        result = asyncio.run(_run_session(session))["cli"]
        usage = result.usage
        db.call(library.add_response, run_row.id, **response_fields(result, messages))

    if args.json:
        summary = {
            "status": str(result.status),
            "text": result.text,
            "ttft_ms": result.ttft_ms,
            "total_ms": result.total_ms,
            "usage": None if usage is None else {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "estimated": usage.estimated,
            },
            "finish_reason": result.finish_reason,
            "error": result.error.message if result.error else None,
            "prompt": name,
            "version_id": version.id,
            "run_id": run_row.id,
        }  # fmt: skip
        json.dump(summary, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif result.text and not result.text.endswith("\n"):
        sys.stdout.write("\n")
    ttft = f"{result.ttft_ms:.0f} ms" if result.ttft_ms is not None else "—"
    total = f"{result.total_ms:.0f} ms" if result.total_ms is not None else "—"
    print(f"{result.status} · TTFT {ttft} · total {total}", file=sys.stderr)
    if result.status == TargetStatus.CANCELLED:
        return 130
    if result.error is not None:
        print(f"promptstudio: {result.error.message}", file=sys.stderr)
        return 1
    return 0


async def _run_session(session: RunSession) -> dict[str, TargetResult]:
    """Run with Ctrl+C stopping the stream (partial text is kept and recorded)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signals here
        loop.add_signal_handler(signal.SIGINT, session.cancel)
    return await session.run()
