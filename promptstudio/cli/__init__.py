"""The ``promptstudio`` command: the GUI by default, and headless commands on the same core.

    promptstudio [--data-dir DIR]                      open the app
    promptstudio render FILE [--var NAME=VALUE]...     print the messages as JSON
    promptstudio run FILE --base-url URL --model NAME  run on one or more models, recorded
    promptstudio eval SOURCE [--model NAME]...         test cases × models, graded (for CI)
    promptstudio export PROMPT | --all -o DIR          .prompty, promptfoo, JSON, Markdown, code
    promptstudio import FILE|DIR...                    into the library, all or nothing
    promptstudio cases import|export PROMPT FILE       a prompt's test cases (CSV, JSONL, JSON)
    promptstudio improve PROMPT --model NAME ...       a model's critique and rewrite, checked
    promptstudio generate prompt TASK | cases PROMPT   a first prompt, or test cases (generated)
    promptstudio optimize PROMPT --improver-model ...  rounds of rewrites evaluated on the cases
    promptstudio history PROMPT | search QUERY         the library, from the terminal
    promptstudio label PROMPT VERSION NAME             move a label, refused below its gate
    promptstudio providers list|add|remove             provider profiles
    promptstudio keys set|delete|status                keys (read from stdin, never shown)
    promptstudio local setup|start|stop|status         a local model, managed (Gemma 3 270M)

Qt is imported only for the GUI, so the headless commands start fast and run anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from promptstudio import APP_NAME, __version__
from promptstudio.errors import PromptStudioError

if TYPE_CHECKING:
    from promptstudio.chat import Message

log = logging.getLogger("promptstudio.cli")
#: What a process killed by SIGPIPE reports (128 + 13), as ``git log | head`` does.
BROKEN_PIPE_EXIT = 141
#: Arguments that name files: any bytes the OS allows (Python keeps them losslessly).
PATH_ARGUMENTS = frozenset(
    {"file", "cases", "output", "paths", "data_dir", "screenshot", "model_file"}
)


class CliError(PromptStudioError):
    """A failure reported as one line on stderr with a non-zero exit code (2: a usage
    error), by every command."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _top_level_parser(**options: Any) -> argparse.ArgumentParser:
    """The options that come before any command (all the GUI takes)."""
    parser = argparse.ArgumentParser(
        prog="promptstudio", description=f"{APP_NAME} {__version__}", **options
    )
    parser.add_argument("--data-dir", metavar="DIR", help="where the library lives")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    return parser


def _gui_arguments(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The arguments when they open the GUI, without building every command's parser (which
    imports the commands' modules and costs the window's first paint ~50 ms); None when
    they name a command or ask for help."""
    words = list(sys.argv[1:] if argv is None else argv)
    if any(word in ("-h", "--help", "--version") for word in words):
        return None  # (a command's own --version, e.g. export's, is not the program's)
    quiet = _top_level_parser(add_help=False, allow_abbrev=False)
    args, rest = quiet.parse_known_args(words)
    if rest:
        return None
    args.command = None
    return args


def build_parser() -> argparse.ArgumentParser:
    parser = _top_level_parser()
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    data = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a command's own --data-dir must not reset one given before the command.
    data.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                      help="where the library lives")  # fmt: skip
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("gui", parents=[data], help="open the app (the default)")

    variables = argparse.ArgumentParser(add_help=False)
    variables.add_argument("file", metavar="FILE", help="a template file")
    variables.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE",
        help="a variable; JSON arrays, objects, numbers and booleans are parsed; "
        "NAME=@PATH reads a file (an image is sent as an image, text as text)",
    )  # fmt: skip

    commands.add_parser(
        "render", parents=[data, variables], help="render a template to its messages (JSON)"
    )
    from promptstudio.cli.run import add_run_command

    add_run_command(commands, [data, variables])
    from promptstudio.cli.evaluate import add_eval_command

    add_eval_command(commands, [data])
    from promptstudio.cli.library import add_commands

    add_commands(commands, data)
    from promptstudio.cli.exchange import add_exchange_commands

    add_exchange_commands(commands, data)
    from promptstudio.cli.cases import add_cases_commands

    add_cases_commands(commands, data)
    from promptstudio.cli.improve import add_improve_commands

    add_improve_commands(commands, data)
    from promptstudio.cli.batches import add_batches_command

    add_batches_command(commands, data)
    from promptstudio.cli.local import add_local_commands

    add_local_commands(commands, data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    stdout = sys.stdout
    guard = _ReaderGone(stdout)
    sys.stdout = cast(TextIO, guard)
    try:
        code = _main(argv)
    except BrokenPipeError:  # a write that bypassed the guard
        guard.stop_writing()
        code = BROKEN_PIPE_EXIT
    finally:
        sys.stdout = stdout
    return BROKEN_PIPE_EXIT if guard.gone else code


class _ReaderGone:
    """``sys.stdout`` that goes quiet once its reader has gone (``| head``): no
    BrokenPipeError from any command (a streamed answer is still stored), and the exit code
    a SIGPIPE would give."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self.stop_writing()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self.stop_writing()

    def stop_writing(self) -> None:
        """Point stdout at /dev/null, so the interpreter's last flush cannot fail either."""
        self.gone = True
        with contextlib.suppress(OSError, ValueError):  # e.g. a test's capture has no fd
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _main(argv: Sequence[str] | None) -> int:
    args = _gui_arguments(argv) or build_parser().parse_args(argv)
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.WARNING)  # the log file (GUI) takes INFO; the terminal doesn't
    stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(stderr)
    logging.getLogger().setLevel(logging.WARNING)
    from promptstudio.credentials import install_redaction

    install_redaction()
    try:
        _refuse_undecodable(args)
        if args.command in (None, "gui"):
            return _gui(args)
        if args.command == "render":
            return _render(args)
        if args.command in ("run", "eval"):
            if args.command == "run":
                from promptstudio.cli.run import run as command
            else:
                from promptstudio.cli.evaluate import evaluate as command
            args.values = parse_values(args.var)
            return command(args)
        from promptstudio.cli.library import run_command

        return run_command(args)
    except CliError as exc:
        print(f"promptstudio: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except PromptStudioError as exc:
        print(f"promptstudio: {exc.message}", file=sys.stderr)
        return 1


def _refuse_undecodable(args: argparse.Namespace) -> None:
    """Refuse text arguments that are not UTF-8 (Python keeps such bytes as surrogates,
    which cannot be stored, sent or printed). File names may be any bytes the OS allows."""
    for name, value in vars(args).items():
        if name in PATH_ARGUMENTS:
            continue
        for text in _texts(value):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                option = "--" + name.replace("_", "-")
                shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                raise CliError(f"{option}: {shown!r} is not valid UTF-8 text", 2) from None


def _texts(value: object) -> list[str]:
    """The strings in an argument value (lists and tuples of them, places of models)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _texts(dataclasses.astuple(value))
    return []


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
    from promptstudio.templating.limits import DEFAULT_LIMITS

    path = Path(file)
    most = DEFAULT_LIMITS.max_source_chars
    try:
        size = path.stat().st_size
        if size > 4 * most:  # UTF-8 takes at most 4 bytes a character
            raise CliError(f"{file}: too large for a template ({size:,} bytes; a template "
                           f"may have at most {most:,} characters)")  # fmt: skip
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


def parse_values(assignments: Sequence[str]) -> dict[str, object]:
    """``--var NAME=VALUE`` flags as values (JSON parsed); a bad one is a usage error.

    ``NAME=@PATH`` reads a file: an image (PNG, JPEG, GIF, WebP) becomes its absolute path,
    which ``![alt]({{ NAME }})`` sends as an image; a text file becomes its text. ``@@``
    starts a value with a literal ``@``.
    """
    from promptstudio.values import parse_assignment

    values: dict[str, object] = {}
    for text in assignments:
        name, _, raw = text.partition("=")
        if raw.startswith("@") and not raw.startswith("@@") and name.strip().isidentifier():
            values[name.strip()] = _file_value(name.strip(), raw[1:])
            continue
        if raw.startswith("@@"):
            text = f"{name}={raw[1:]}"
        try:
            name, value = parse_assignment(text)
        except ValueError as exc:
            raise CliError(f"--var: {exc}", exit_code=2) from exc
        values[name] = value
    return values


def _file_value(name: str, file: str) -> str:
    """The value of ``--var NAME=@FILE``: an image's absolute path, or a text file's text."""
    from promptstudio.images import MAX_BYTES, sniff

    path = Path(file).expanduser().resolve()
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise CliError(f"--var {name}=@{file}: no such file", exit_code=2) from None
    except OSError as exc:
        raise CliError(f"--var {name}=@{file}: {exc.strerror or exc}", exit_code=2) from None
    if sniff(head) is not None:
        if path.stat().st_size > MAX_BYTES:
            raise CliError(
                f"--var {name}=@{file}: the image is over {MAX_BYTES // 1024 // 1024} MB, "
                "more than any API takes",
                exit_code=2,
            )
        return str(path)
    try:
        return _read_template(str(path))
    except CliError as exc:
        raise CliError(
            f"--var {name}=@{file}: neither text nor a PNG, JPEG, GIF or WebP image "
            f"({exc.message.removeprefix(str(path) + ': ')})",
            exit_code=2,
        ) from None


def prompt_dir(file: str) -> Path | None:
    """Where relative image paths in the prompt file ``file`` are read from: its folder."""
    path = Path(file)
    return path.resolve().parent if path.is_file() else None


def _messages(args: argparse.Namespace) -> list[Message]:
    from promptstudio import templating
    from promptstudio.cli.run import load_document
    from promptstudio.exchange.document import template_location

    values = parse_values(args.var)  # usage errors first, before touching the file
    doc = load_document(args)
    try:
        return templating.render_messages(
            doc.template, {**doc.variables, **values}, base_dir=prompt_dir(args.file)
        )
    except templating.TemplateError as exc:
        where = template_location(doc, args.file, exc.line, exc.column)
        raise CliError(f"{where}: {exc.message}") from exc


def _render(args: argparse.Namespace) -> int:
    messages = _messages(args)
    json.dump({"messages": [m.to_dict() for m in messages]}, sys.stdout, ensure_ascii=False,
              indent=2)  # fmt: skip
    sys.stdout.write("\n")
    return 0
