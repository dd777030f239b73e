"""``--data-dir DIR`` works before the command and after it, for every command.

Each command runs through the installed entry point with ``HOME`` and
``PROMPTSTUDIO_HOME`` pointed at a decoy folder: the decoy must stay empty, and the
command must have read or written DIR (each case checks something only DIR has).
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from promptstudio.cli import build_parser, main
from promptstudio.providers import ProviderProfile
from promptstudio.settings.profiles import ProfileStore
from promptstudio.storage import Database, library
from tests.cli.test_cli import PROMPTSTUDIO
from tests.fake_llm import FakeLLM, Reply
from tests.improve.fakes import studio


@dataclass
class Place:
    data: Path  # the DIR given with --data-dir
    decoy: Path  # HOME and PROMPTSTUDIO_HOME point here
    work: Path  # input files
    server: FakeLLM


@dataclass(frozen=True)
class Case:
    args: Callable[[Place], list[str]]
    check: Callable[[Place, subprocess.CompletedProcess[str]], None]
    stdin: str | None = None
    stand_in: bool = False  # the local extra's stand-ins on PYTHONPATH (tests/stand_in)


def _library_has(place: Place, name: str) -> None:
    with Database(place.data / "library.sqlite3") as db:
        assert name in [p.name for p in db.call(library.list_prompts)]


def _ok(place: Place, done: subprocess.CompletedProcess[str]) -> None:
    pass  # exit 0 and an empty decoy are checked for every case


def _profiles_json(place: Place) -> str:
    return (place.data / "profiles.json").read_text(encoding="utf-8")


def _prompt_file(place: Place) -> str:
    path = place.work / "hello.prompt"
    path.write_text("user:\nSay hello to {{ who }}.\n", encoding="utf-8")
    return str(path)


def _eval_args(place: Place) -> list[str]:
    cases = place.work / "cases.csv"
    cases.write_text("who,__expected\nAda,hello\n", encoding="utf-8")
    return [
        "eval",
        _prompt_file(place),
        "--cases",
        str(cases),
        "--base-url",
        place.server.base_url,
        "--model",
        "m",
    ]


def _eval_stored(place: Place, done: subprocess.CompletedProcess[str]) -> None:
    with Database(place.data / "library.sqlite3") as db:
        prompt = next(p for p in db.call(library.list_prompts) if p.name == "hello")
        assert db.call(library.list_eval_runs, prompt.id)


def _cases_import_args(place: Place) -> list[str]:
    cases = place.work / "cases.csv"
    cases.write_text("x,__expected\nAda,hello\n", encoding="utf-8")
    return ["cases", "import", "Seeded prompt", str(cases)]


def _cases_stored(place: Place, done: subprocess.CompletedProcess[str]) -> None:
    with Database(place.data / "library.sqlite3") as db:
        prompt = next(p for p in db.call(library.list_prompts) if p.name == "Seeded prompt")
        assert [case.vars for case in db.call(library.list_cases, prompt.id)] == [{"x": "Ada"}]


def _batch_args(*words: str) -> Callable[[Place], list[str]]:
    """``batches WORDS`` after an evaluation was sent as a batch into DIR (in this process)."""

    def args(place: Place) -> list[str]:
        place.server.batches.seconds = 600  # still running while the command asks
        sent = main([*_eval_args(place), "--batch", "--data-dir", str(place.data)])
        assert sent == 0
        return ["batches", *words]

    return args


def _has_batch(place: Place, done: subprocess.CompletedProcess[str]) -> None:
    assert "batch 1" in done.stdout


def _labelled(place: Place, done: subprocess.CompletedProcess[str]) -> None:
    newest = _seeded_versions(place)[0]
    with Database(place.data / "library.sqlite3") as db:
        label = db.call(library.get_label, newest.prompt_id, "production")
    assert label is not None and label.version_id == newest.id


def _local_started(place: Place, done: subprocess.CompletedProcess[str]) -> None:
    from promptstudio.local.server import read_state, stop_server

    state = read_state(place.data)
    assert state is not None and state.base_url in done.stdout
    stop_server(place.data)


def _stale_local_server(place: Place) -> list[str]:
    from promptstudio.local.server import ServerState, write_state

    write_state(place.data, ServerState(pid=999_999_999, port=1, argv=["gone"], owner=1))
    return ["local", "stop"]


def _local_forgotten(place: Place, done: subprocess.CompletedProcess[str]) -> None:
    assert not (place.data / "local-server.json").exists()


def _chosen_local_model(place: Place) -> list[str]:
    from promptstudio.local.model import choose_model, model_from_file

    model = place.work / "only-in-DIR.gguf"
    model.write_bytes(b"GGUF stand-in")
    choose_model(place.data, model_from_file(model))
    return ["local", "status"]


CASES: dict[str, Case] = {
    "gui": Case(lambda p: ["--smoke", "gui"], lambda p, d: _library_has(p, "Seeded prompt")),
    "render": Case(lambda p: ["render", _prompt_file(p), "--var", "who=Ada"], _ok),
    "run": Case(
        lambda p: [
            "run",
            _prompt_file(p),
            "--var",
            "who=Ada",
            "--base-url",
            p.server.base_url,
            "--model",
            "m",
        ],
        lambda p, d: _library_has(p, "hello"),
    ),
    "eval": Case(_eval_args, _eval_stored),
    "export": Case(
        lambda p: ["export", "Seeded prompt", "--format", "template"],
        lambda p, d: _contains(d.stdout, "only-in-DIR"),
    ),
    "import": Case(lambda p: ["import", _prompt_file(p)], lambda p, d: _library_has(p, "hello")),
    "cases import": Case(_cases_import_args, _cases_stored),
    "cases export": Case(
        lambda p: ["cases", "export", "Seeded prompt", "-o", str(p.work / "out.jsonl")],
        lambda p, d: _contains((p.work / "out.jsonl").read_text(encoding="utf-8"), "only-in-DIR"),
    ),
    "history": Case(lambda p: ["history", "Seeded prompt"], _ok),
    "label": Case(lambda p: ["label", "Seeded prompt", "latest", "production"], _labelled),
    "search": Case(lambda p: ["search", "only"], _ok),
    "providers list": Case(
        lambda p: ["providers", "list"], lambda p, d: _contains(d.stdout, "dirbox")
    ),
    "providers add": Case(
        lambda p: [
            "providers",
            "add",
            "added",
            "--name",
            "Added",
            "--base-url",
            "http://10.0.0.9:8000/v1",
            "--no-key",
        ],
        lambda p, d: _contains(_profiles_json(p), "added"),
    ),
    "providers remove": Case(
        lambda p: ["providers", "remove", "dirbox"],
        lambda p, d: _lacks(_profiles_json(p), "dirbox"),
    ),
    "keys set": Case(lambda p: ["keys", "set", "dirbox"], _ok, stdin="sk-not-a-real-key\n"),
    "keys delete": Case(lambda p: ["keys", "delete", "dirbox"], _ok),
    "keys status": Case(lambda p: ["keys", "status", "dirbox"], _ok),
    "improve": Case(
        lambda p: ["improve", "Seeded prompt", *_model(p, "improver-good"), "--accept"],
        lambda p, d: _newest_kind(p, "improved"),
    ),
    "generate prompt": Case(
        lambda p: ["generate", "prompt", "Add numbers", *_model(p, "g"), "--save", "Made"],
        lambda p, d: _library_has(p, "Made"),
    ),
    "generate cases": Case(
        lambda p: ["generate", "cases", "Seeded prompt", "-n", "2", *_model(p, "g")],
        lambda p, d: _generated(p),
    ),
    "optimize": Case(
        lambda p: [
            "optimize",
            "Seeded prompt",
            *_model(p, "m"),
            "--improver-model",
            "improver-good",
            "--improver-base-url",
            p.server.base_url,
            "--rounds",
            "1",
            "--candidates",
            "1",
        ],
        lambda p, d: _newest_kind(p, "candidate"),
    ),
    "batches list": Case(_batch_args("list"), _has_batch),
    "batches status": Case(_batch_args("status", "1"), _has_batch),
    "batches collect": Case(_batch_args("collect", "1"), _has_batch),
    "batches cancel": Case(_batch_args("cancel", "1"), _has_batch),
    "local setup": Case(lambda p: ["local", "setup"], _ok, stand_in=True),
    "local start": Case(lambda p: ["local", "start", "--detach"], _local_started, stand_in=True),
    "local stop": Case(_stale_local_server, _local_forgotten),
    "local status": Case(_chosen_local_model, lambda p, d: _contains(d.stdout, "only-in-DIR")),
}


def _model(place: Place, name: str) -> list[str]:
    return ["--base-url", place.server.base_url, "--model", name]


def _seeded_versions(place: Place) -> list[library.VersionRow]:
    with Database(place.data / "library.sqlite3") as db:
        prompt = next(p for p in db.call(library.list_prompts) if p.name == "Seeded prompt")
        return db.call(library.list_versions, prompt.id)


def _newest_kind(place: Place, kind: str) -> None:
    assert _seeded_versions(place)[0].kind == kind


def _generated(place: Place) -> None:
    with Database(place.data / "library.sqlite3") as db:
        prompt = next(p for p in db.call(library.list_prompts) if p.name == "Seeded prompt")
        assert [c.generated for c in db.call(library.list_cases, prompt.id)] == [False, True, True]


def _contains(text: str, part: str) -> None:
    assert part in text


def _lacks(text: str, part: str) -> None:
    assert part not in text


def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    for action in parser._actions:  # argparse offers no public walk over subcommands
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaf_commands(sub, f"{prefix}{name} ")
            return
    if prefix:
        yield prefix.strip()


def test_every_command_is_covered() -> None:
    assert set(_leaf_commands(build_parser())) == set(CASES)


@pytest.fixture
def place(tmp_path: Path, fake_llm: FakeLLM) -> Place:
    data, decoy, work = tmp_path / "chosen", tmp_path / "decoy", tmp_path / "work"
    for folder in (data, decoy, work):
        folder.mkdir()
    with Database(data / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Seeded prompt")
        db.call(library.save_version, prompt.id, "only-in-DIR {{ x }}", {"x": "1"}, {})
        db.call(library.replace_cases, prompt.id, [{"vars": {"x": "only-in-DIR"}}])
    ProfileStore(data).add(
        ProviderProfile(
            id="dirbox",
            kind="openai-compatible",
            name="Box",
            base_url="http://10.0.0.5:8000/v1",
            needs_key=False,
        )
    )
    fake_llm.script(Reply(text="hello"))
    fake_llm.respond(studio)  # the improver and the generators; "hello" for the rest
    return Place(data, decoy, work, fake_llm)


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("command", sorted(CASES))
def test_data_dir_is_honoured_before_and_after_the_command(
    command: str, position: str, place: Place, tmp_path: Path
) -> None:
    case = CASES[command]
    args = case.args(place)
    option = ["--data-dir", str(place.data)]
    argv = [*option, *args] if position == "before" else [*args, *option]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "PROMPTSTUDIO"))
    }
    outside = tmp_path / "outside"  # caches of Qt and fontconfig are not the library
    env |= {
        "HOME": str(place.decoy),
        "PROMPTSTUDIO_HOME": str(place.decoy / "ps"),
        "XDG_CACHE_HOME": str(outside / "cache"),
        "XDG_RUNTIME_DIR": str(outside / "runtime"),
        "PYTHON_KEYRING_BACKEND": "promptstudio.credentials.memory.InMemoryKeyring",
        "QT_QPA_PLATFORM": "offscreen",
    }
    if case.stand_in:
        from tests.stand_in import PATH

        env["PYTHONPATH"] = str(PATH)
    done = subprocess.run(
        [*PROMPTSTUDIO, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=case.stdin,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert [str(p.relative_to(place.decoy)) for p in place.decoy.rglob("*")] == []
    case.check(place, done)
