"""``improve``, ``generate`` and ``optimize`` through the installed entry point, with the
fake server playing the improver, the generators and the graded model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptstudio.evals.store import load_run
from promptstudio.settings.store import SettingsStore
from promptstudio.storage import Database, library, optimisations
from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM
from tests.improve.fakes import SUMS, studio

TEMPLATE = "user:\nWhat is {{ a }} + {{ b }}? Reply with the number.\n"


@pytest.fixture
def server(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.models += ["adder", "improver-good", "improver-dropper", "improver-mute"]
    fake_llm.respond(studio)
    return fake_llm


def _library(home: Path, *, cases: bool = False) -> int:
    with Database(home / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Sums")
        db.call(library.save_version, prompt.id, TEMPLATE, {"a": "1", "b": "2"}, {})
        if cases:
            db.call(library.replace_cases, prompt.id, [
                {"vars": {"a": a, "b": b}, "assert": [{"type": "equals", "value": str(a + b)}]}
                for a, b in SUMS
            ])  # fmt: skip
        return prompt.id


def _versions(home: Path, prompt_id: int) -> list[library.VersionRow]:
    with Database(home / "library.sqlite3") as db:
        return db.call(library.list_versions, prompt_id)


def test_improve_prints_the_critique_and_diff_and_accept_saves_an_improved_child(
    server: FakeLLM, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    prompt_id = _library(home)
    at = ["--base-url", server.base_url, "--model", "improver-good"]
    done = cli("improve", "Sums", *at, "--goal", "shorter answers", home=home)
    assert done.returncode == 0, done.stderr
    assert "Add 'Think step by step.'" in done.stdout
    assert "+Think step by step." in done.stdout and "--- v1" in done.stdout
    assert len(_versions(home, prompt_id)) == 1  # not accepted: nothing saved
    sent = server.chat_requests()[-1].json["messages"]
    assert "shorter answers" in sent[-1]["content"] and "{{ a }}" in sent[-1]["content"]

    done = cli("improve", "Sums", *at, "--accept", "--json", home=home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["version"] == 2 and data["template"].endswith("Think step by step.\n")
    assert data["critique"].startswith("1. Add")
    newest, original = _versions(home, prompt_id)
    assert (newest.kind, newest.parent_id) == ("improved", original.id)
    assert newest.template == data["template"] and newest.variables == original.variables
    with Database(home / "library.sqlite3") as db:  # the improver is a library prompt
        [improver] = [p for p in db.call(library.list_prompts, folder="PromptStudio")
                      if p.name == "Prompt improver"]  # fmt: skip
        latest = db.call(library.latest_version, improver.id)
        assert latest is not None and "<prompt>" in latest.template


def test_a_rewrite_that_drops_a_variable_or_has_no_prompt_is_rejected_with_the_reason(
    server: FakeLLM, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    prompt_id = _library(home)
    at = ["--base-url", server.base_url]
    done = cli("improve", "Sums", *at, "--model", "improver-dropper", "--accept", home=home)
    assert done.returncode == 1
    assert "rejected" in done.stderr and "drops the variable {{ b }}" in done.stderr
    assert "Traceback" not in done.stderr
    done = cli("improve", "Sums", *at, "--model", "improver-mute", "--json", home=home)
    assert done.returncode == 1 and "no rewrite between <prompt> and </prompt>" in done.stderr
    assert done.stdout == ""
    assert len(_versions(home, prompt_id)) == 1


def test_the_newest_version_of_the_improver_prompt_is_the_one_used(
    server: FakeLLM, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _library(home)
    at = ["--base-url", server.base_url, "--model", "improver-good"]
    assert cli("improve", "Sums", *at, home=home).returncode == 0
    with Database(home / "library.sqlite3") as db:
        [improver] = [p for p in db.call(library.list_prompts, folder="PromptStudio")
                      if p.name == "Prompt improver"]  # fmt: skip
        old = db.call(library.latest_version, improver.id)
        assert old is not None
        edited = old.template.replace("You are an expert", "You are a frugal expert")
        db.call(library.save_version, improver.id, edited, old.variables, {})
    assert cli("improve", "Sums", *at, home=home).returncode == 0
    system = server.chat_requests()[-1].json["messages"][0]["content"]
    assert system.startswith("You are a frugal expert")


def test_generate_prompt_and_cases_store_cases_marked_generated(
    server: FakeLLM, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    prompt_id = _library(home, cases=True)
    at = ["--base-url", server.base_url, "--model", "improver-good"]
    done = cli("generate", "prompt", "Add two numbers", *at, "--save", "Adder", "--json",
               home=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "{{ a }}" in data["template"] and data["values"] == {"a": "2", "b": "3"}
    assert (data["prompt"], data["version"]) == ("Adder", 1)

    done = cli("generate", "cases", "Sums", "-n", "3", *at, "--json", home=home)
    assert done.returncode == 0, done.stderr
    stored = json.loads(done.stdout)["cases"]
    assert [c["description"] for c in stored] == [
        "[typical] two small numbers", "[edge] zero",
        "[adversarial] hidden instruction (left out 1 malformed check(s))",
    ]  # fmt: skip
    assert stored[2]["assert"] == [{"type": "not-contains", "value": "hi"}]
    with Database(home / "library.sqlite3") as db:
        cases = db.call(library.list_cases, prompt_id)
    assert [c.generated for c in cases] == [False] * len(SUMS) + [True] * 3
    assert cases[-3].vars == {"a": "1", "b": "2"}


def test_optimize_two_rounds_of_two_chooses_the_better_candidate_and_stops_at_the_budget(
    server: FakeLLM, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    prompt_id = _library(home, cases=True)
    SettingsStore(home).update({"prices.overrides": "adder: 1000, 1000"})
    args = ["optimize", "Sums", "--base-url", server.base_url, "--model", "adder",
            "--improver-model", "improver-good", "--improver-base-url", server.base_url,
            "--rounds", "2", "--candidates", "2", "--json"]  # fmt: skip
    done = cli(*args, "--max-cost", "0.5", home=home)
    data = json.loads(done.stdout)
    assert data["original"]["pass_rate"] == 0.0
    first = data["rounds"][0]["candidates"]
    assert [c["pass_rate"] for c in first] == [1.0, 0.0]  # "step by step" fixes the sums
    assert data["chosen"]["version"] == first[0]["version"]
    assert data["stopped"] == "budget" and done.returncode == 1, done.stderr
    assert 0 < data["spent"] <= 0.5
    # Without a budget round 2 would evaluate its two candidates too (5 evaluations in all).
    graded = [r for r in server.chat_requests() if r.json["model"] == "adder"]
    assert len(graded) < 5 * len(SUMS)
    versions = {v.number: v for v in _versions(home, prompt_id)}
    original = versions[1]
    for candidate in first:
        version = versions[candidate["version"]]
        assert (version.kind, version.parent_id) == ("candidate", original.id)
    with Database(home / "library.sqlite3") as db:
        [row] = db.call(optimisations.list_optimisations, prompt_id)
        assert row.chosen_version_id == data["chosen"]["version_id"]
        run = db.call(load_run, first[0]["eval_id"])
        assert run.version_number == first[0]["version"]
