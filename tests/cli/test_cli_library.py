"""history, search, providers and keys from the terminal, as real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from promptstudio.storage import Database, library
from tests.cli.test_cli import PROMPTSTUDIO, cli

SENTINEL = "sk-cli-SENTINEL-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def _seed(home: Path) -> int:
    home.mkdir(parents=True, exist_ok=True)
    with Database(home / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Haiku writer")
        for text in (
            "Write a haiku about {{ topic }}",
            "Write a haiku about {{ topic }}, in English",
        ):
            db.call(library.save_version, prompt.id, text, {"topic": "rain"}, {}, message="try")
        version = db.call(library.latest_version, prompt.id)
        assert version is not None
        db.call(library.set_label, prompt.id, "prod", version.id)
        return prompt.id


def test_history_lists_versions_and_takes_a_name_or_an_id(tmp_path: Path) -> None:
    prompt_id = _seed(tmp_path)
    done = cli("history", "Haiku writer", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    versions = json.loads(done.stdout)["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["labels"] == ["prod"]
    text = cli("history", str(prompt_id), home=tmp_path)
    assert text.returncode == 0 and text.stdout.startswith("v2")
    missing = cli("history", "Nope", home=tmp_path)
    assert missing.returncode == 1 and "no prompt named" in missing.stderr


def test_search_finds_words_in_templates(tmp_path: Path) -> None:
    _seed(tmp_path)
    done = cli("search", "haiku", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Haiku writer" in done.stdout and "[" in done.stdout  # the match is marked
    assert cli("search", "zzzyyyxxx", home=tmp_path).returncode == 1


def test_search_finds_a_note_on_an_evaluation_cell(tmp_path: Path) -> None:
    from promptstudio.evals.results import DONE, CellResult, EvalCase, EvalColumn, EvalRun
    from promptstudio.evals.store import save_run
    from promptstudio.storage.ratings import BAD, Rating, rate_eval_cell

    prompt_id = _seed(tmp_path)
    with Database(tmp_path / "library.sqlite3") as db:
        version = db.call(library.latest_version, prompt_id)
        assert version is not None
        run = EvalRun(
            columns=(EvalColumn("a", "m", "m", "http://x/v1", {}),),
            cases=(EvalCase("c1", 0, {}),),
        )
        run.cells[("c1", "a")] = CellResult("c1", "a", DONE, text="Rain on the roof")
        saved = db.call(save_run, version.id, run)
        assert saved.id is not None
        db.call(rate_eval_cell, saved.id, "c1", "a", Rating(BAD, "seventeen syllables missed"))
    done = cli("search", "syllables", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    (hit,) = json.loads(done.stdout)
    assert (hit["kind"], hit["eval_run_id"], hit["version"]) == ("eval_cell", saved.id, 2)
    assert hit["snippet"] == "note: seventeen syllables missed"
    text = cli("search", "syllables", home=tmp_path)
    assert "Haiku writer [eval_cell]: note: seventeen [syllables] missed" in text.stdout


def test_providers_add_list_and_remove(tmp_path: Path) -> None:
    done = cli("providers", "add", "box", "--name", "My box", "--base-url",
               "http://10.0.0.5:8000/v1", "--no-key", home=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = json.loads(cli("providers", "list", "--json", home=tmp_path).stdout)
    assert any(p["id"] == "box" and not p["preset"] for p in listed)
    bad = cli("providers", "add", "bad", "--name", "x", "--base-url", "not a url", home=tmp_path)
    assert bad.returncode == 1 and "URL" in bad.stderr
    assert cli("providers", "remove", "box", home=tmp_path).returncode == 0
    assert cli("providers", "remove", "ollama", home=tmp_path).returncode == 0  # hidden
    listed = json.loads(cli("providers", "list", "--json", home=tmp_path).stdout)
    assert not any(p["id"] == "box" for p in listed)
    assert next(p for p in listed if p["id"] == "ollama")["hidden"]


def test_keys_are_read_from_stdin_and_never_printed(tmp_path: Path) -> None:
    env_backend = "promptstudio.credentials.memory.InMemoryKeyring"  # dies with the process
    done = cli_with_backend(tmp_path, env_backend, "keys", "set", "openai", stdin=SENTINEL + "\n")
    assert done.returncode == 0, done.stderr
    assert SENTINEL not in done.stdout + done.stderr
    assert "stored the key" in done.stderr
    status = cli_with_backend(tmp_path, env_backend, "keys", "status", "--json")
    assert SENTINEL not in status.stdout + status.stderr
    assert {row["profile"] for row in json.loads(status.stdout)} >= {"openai", "anthropic"}
    # With no keychain at all the key is refused (the CLI keeps nothing between runs).
    refused = cli("keys", "set", "openai", home=tmp_path, stdin=SENTINEL + "\n")
    assert refused.returncode == 1 and "no OS keychain" in refused.stderr
    assert SENTINEL not in refused.stdout + refused.stderr
    assert not any(SENTINEL.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def cli_with_backend(home: Path, backend: str, *args: str, stdin: str | None = None):
    import os
    import subprocess

    env = {**os.environ, "PROMPTSTUDIO_HOME": str(home), "PYTHON_KEYRING_BACKEND": backend}
    return subprocess.run([*PROMPTSTUDIO, *args], env=env,
                          capture_output=True, text=True, timeout=120, input=stdin)  # fmt: skip


def test_keys_set_without_a_keychain_says_one_thing(tmp_path: Path) -> None:
    """No "kept for this session" warning before the error that nothing is kept: one line."""
    refused = cli("keys", "set", "openai", home=tmp_path, stdin=SENTINEL + "\n")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "no OS keychain is available, so the key could not be stored" in lines[0]
    assert "session" not in refused.stderr and SENTINEL not in refused.stderr
