"""The library commands of the CLI: history, search, providers and keys.

They use the same core as the GUI. ``--json`` prints machine-readable output; failures
exit non-zero with one line on stderr. A key is read from stdin and never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from promptstudio.cli import CliError
from promptstudio.cli.options import whole


def add_commands(commands: Any, data: argparse.ArgumentParser) -> None:
    """Register the commands on the CLI's subparsers; ``data`` adds --data-dir."""
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--json", action="store_true", help="machine-readable output")

    history = commands.add_parser("history", parents=[data, out], help="versions of a prompt")
    history.add_argument("prompt", metavar="PROMPT", help="a prompt's name or id")
    history.add_argument("--limit", type=whole(), default=50)
    history.set_defaults(handler=_history)

    search = commands.add_parser("search", parents=[data, out], help="search prompts and answers")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--limit", type=whole(), default=20)
    search.set_defaults(handler=_search)

    providers = commands.add_parser("providers", parents=[data], help="provider profiles")
    actions = providers.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[data, out], help="list profiles").set_defaults(
        handler=_providers_list
    )
    add = actions.add_parser("add", parents=[data], help="add a profile")
    add.add_argument("id")
    add.add_argument("--name", required=True)
    add.add_argument("--base-url", required=True)
    add.add_argument("--kind", default="openai-compatible",
                     choices=("openai-compatible", "openai", "anthropic"))  # fmt: skip
    add.add_argument("--api", default="auto", choices=("auto", "chat", "responses"))
    add.add_argument("--no-key", action="store_true", help="the server needs no key")
    add.add_argument("--key-env", metavar="VAR", default="",
                     help="an environment variable holding this profile's key (its name is "
                          "stored, never its value; read only for this profile)")  # fmt: skip
    add.set_defaults(handler=_providers_add)
    remove = actions.add_parser("remove", parents=[data], help="remove (or hide) a profile")
    remove.add_argument("id")
    remove.set_defaults(handler=_providers_remove)

    keys = commands.add_parser("keys", parents=[data], help="API keys in the OS keychain")
    key_actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    key_set = key_actions.add_parser("set", parents=[data], help="store a key read from stdin")
    key_set.add_argument("profile", metavar="PROFILE", help="a profile id or a base URL")
    key_set.set_defaults(handler=_keys_set)
    key_delete = key_actions.add_parser("delete", parents=[data], help="delete a stored key")
    key_delete.add_argument("profile", metavar="PROFILE")
    key_delete.set_defaults(handler=_keys_delete)
    status = key_actions.add_parser("status", parents=[data, out], help="where keys come from")
    status.add_argument("profile", metavar="PROFILE", nargs="?")
    status.set_defaults(handler=_keys_status)
    from promptstudio.cli.label import add_label_command

    add_label_command(commands, data)


def run_command(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)  # a CliError is reported by main, as every command's


def emit(args: argparse.Namespace, data: Any, lines: list[str]) -> None:
    if getattr(args, "json", False):
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(lines) if lines else "(nothing)")


def open_db(args: argparse.Namespace) -> Any:
    from promptstudio.paths import data_dir, database_path
    from promptstudio.storage import Database

    return Database(database_path(data_dir(args.data_dir)))


def find_prompt(conn: Any, name_or_id: str) -> Any:
    from promptstudio.storage import library

    rows = library.list_prompts(conn)
    found = [r for r in rows if str(r.id) == name_or_id or r.name == name_or_id]
    if not found:
        raise CliError(f"no prompt named or numbered {name_or_id!r}")
    if len(found) > 1:
        raise CliError(f"{len(found)} prompts are named {name_or_id!r}: use the id")
    return found[0]


def _history(args: argparse.Namespace) -> int:
    from promptstudio.storage import library

    with open_db(args) as db:
        prompt = db.call(find_prompt, args.prompt)
        rows = db.call(library.version_history, prompt.id, limit=args.limit)
    data = [
        {"version": r.number, "id": r.id, "created_at": r.created_at, "kind": r.kind,
         "message": r.message, "labels": list(r.labels), "runs": r.run_count,
         "best_cost": r.best_cost, "best_total_ms": r.best_total_ms}
        for r in rows
    ]  # fmt: skip
    lines = [
        f"v{r.number:<4} {r.created_at[:16].replace('T', ' ')}  {r.kind:<7} "
        f"{r.run_count:>3} runs  {', '.join(r.labels):<12} {r.message}"
        for r in rows
    ]
    emit(args, {"prompt": prompt.name, "id": prompt.id, "versions": data}, lines)
    return 0


def _search(args: argparse.Namespace) -> int:
    from promptstudio.storage import library

    with open_db(args) as db:
        hits = db.call(library.search, args.query, limit=args.limit)
    data = [
        {"kind": h.kind, "prompt_id": h.prompt_id, "prompt": h.prompt_name,
         "version": h.version_number, "version_id": h.version_id, "response_id": h.response_id,
         "eval_run_id": h.eval_run_id, "snippet": h.snippet}
        for h in hits
    ]  # fmt: skip
    lines = [f"{h.prompt_name} [{h.kind}]: {h.marked('[', ']')}" for h in hits]
    emit(args, data, lines)
    return 0 if hits else 1


def _profiles(args: argparse.Namespace) -> Any:
    from promptstudio.paths import data_dir
    from promptstudio.settings.profiles import ProfileStore

    store = ProfileStore(data_dir(args.data_dir))
    store.load()
    return store


def _providers_list(args: argparse.Namespace) -> int:
    store = _profiles(args)
    profiles = store.profiles(include_hidden=True)
    data = [{**p.to_dict(), "preset": store.is_preset(p.id), "hidden": store.is_hidden(p.id)}
            for p in profiles]  # fmt: skip
    lines = [f"{p.id:<14} {p.kind:<18} {p.base_url}  {p.name}"
             + ("  (hidden)" if store.is_hidden(p.id) else "") for p in profiles]  # fmt: skip
    emit(args, data, lines)
    return 0


def _providers_add(args: argparse.Namespace) -> int:
    from promptstudio.providers import ProviderProfile

    store = _profiles(args)
    profile = ProviderProfile(id=args.id, kind=args.kind, name=args.name,
                              base_url=args.base_url, api=args.api,
                              needs_key=not args.no_key, key_env=args.key_env)  # fmt: skip
    store.add(profile)
    print(f"added {profile.id} ({profile.base_url})", file=sys.stderr)
    if profile.key_env:
        import os

        state = "set" if os.environ.get(profile.key_env, "").strip() else "not set now"
        print(f"its key comes from ${profile.key_env} ({state})", file=sys.stderr)
    return 0


def _providers_remove(args: argparse.Namespace) -> int:
    store = _profiles(args)
    store.get(args.id)  # a typed error for an unknown id
    if store.is_preset(args.id):
        store.hide(args.id)
        print(f"{args.id} is a preset: hidden (providers list still shows it)", file=sys.stderr)
    else:
        store.remove(args.id)
        print(f"removed {args.id}", file=sys.stderr)
    return 0


def _account(args: argparse.Namespace) -> str:
    """A profile id's key account, or a base URL as given."""
    return _account_and_env(args)[0]


def _account_and_env(args: argparse.Namespace) -> tuple[str, str]:
    """A profile id's key account and key variable, or a base URL as given (no variable)."""
    if "://" in args.profile:
        return str(args.profile), ""
    profile = _profiles(args).get(args.profile)
    return str(profile.key_account), str(profile.key_env)


def _keys_set(args: argparse.Namespace) -> int:
    from promptstudio.credentials import KeychainUnavailable, KeyStore

    account = _account(args)
    if sys.stdin.isatty():
        import getpass

        secret = getpass.getpass("API key (not shown): ")
    else:
        secret = sys.stdin.readline()
    if not secret.strip():
        raise CliError("no key on stdin", exit_code=2)
    try:  # one message when there is no keychain: nothing is kept, not even for this run
        KeyStore().set(account, secret, for_session=False)
    except KeychainUnavailable as exc:
        problem = exc.message
        raise CliError(
            f"{problem[0].lower()}{problem[1:]}, so the key could not be stored (the CLI keeps "
            "nothing between runs); set the provider's environment variable, or name one for "
            "a profile with `providers add ID ... --key-env VAR`"
        ) from None
    print(f"stored the key for {account} in the OS keychain", file=sys.stderr)
    return 0


def _keys_delete(args: argparse.Namespace) -> int:
    from promptstudio.credentials import KeyStore

    account = _account(args)
    KeyStore().delete(account)
    print(f"deleted the key for {account}", file=sys.stderr)
    return 0


def _keys_status(args: argparse.Namespace) -> int:
    from promptstudio.credentials import KeyStore

    keys = KeyStore()
    if args.profile:
        accounts = [(args.profile, *_account_and_env(args))]
    else:
        accounts = [(p.id, p.key_account, p.key_env) for p in _profiles(args).profiles()]
    data = []
    for name, account, key_env in accounts:
        resolved = keys.resolve(account, key_env=key_env)  # the value is never printed
        data.append({"profile": name, "account": account, "source": resolved.source,
                     "env_var": resolved.env_var})  # fmt: skip
    lines = [f"{d['profile']:<14} {d['source']}" + (f" (${d['env_var']})" if d["env_var"] else "")
             for d in data]  # fmt: skip
    problem = keys.keychain_problem()
    if problem:
        print(f"note: {problem[0].lower()}{problem[1:]}", file=sys.stderr)
    emit(args, data, lines)
    return 0
