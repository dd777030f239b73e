"""``promptstudio run --samples N --batch [--wait]``: a run's samples as provider batches,
through the installed entry point against the fake batch APIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptstudio.evals.store import load_run
from promptstudio.storage import Database, library
from promptstudio.storage import batches as stored
from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply


@pytest.fixture
def server(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.respond(lambda model, body: Reply(text=f"{model} says hi"))
    fake_llm.batches.seconds = 0.3
    return fake_llm


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "greet.prompt"
    path.write_text("user:\nGreet {{ name }}.\n")
    return path


def _run_batch(server: FakeLLM, prompt: Path, home: Path, samples: int, *more: str) -> Any:
    """``run PROMPT --samples N --batch`` on good-model (and ``more`` options)."""
    return cli("run", str(prompt), "--var", "name=Ada", "--base-url", server.base_url,
               "--model", "good-model", "--samples", str(samples), "--batch", *more,
               home=home)  # fmt: skip


def _runs(home: Path) -> list[Any]:
    with Database(home / "library.sqlite3") as db:
        [row] = db.call(library.list_prompts)
        return [db.call(load_run, run.id) for run in db.call(library.list_eval_runs, row.id)]


def test_run_samples_batch_wait_prints_each_sample_and_stores_them(
    server: FakeLLM, prompt: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    done = _run_batch(server, prompt, home, 3, "--wait", "--poll-every", "0.1")
    assert done.returncode == 0, done.stderr
    for number in (1, 2, 3):
        assert f"=== good-model #{number} ===\ngood-model says hi\n" in done.stdout
    assert "pending, 3 samples per model" in done.stderr
    [run] = _runs(home)
    assert run.status == "done" and run.settings["batch"] is True
    samples = run.samples("run", run.columns[0].key)
    assert [cell.sample for cell in samples] == [0, 1, 2]
    assert all(cell.batch and cell.text == "good-model says hi" for cell in samples)
    [batch] = Database(home / "library.sqlite3").call(stored.list_batches)
    assert batch.collected and batch.requests == 3


def test_run_batch_without_wait_prints_the_batch_and_exits_0_then_collect_stores(
    server: FakeLLM, prompt: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    done = _run_batch(server, prompt, home, 2)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("batch 1 ") and "evaluation 1" in done.stdout
    assert _runs(home)[0].status == "pending"
    for _ in range(200):  # each collect is a new process; the fake batch ends within a second
        collected = cli("batches", "collect", home=home)
        if "stored" in collected.stdout:
            break
    assert "2 answers stored in evaluation 1" in collected.stdout, collected.stderr
    [run] = _runs(home)
    assert [c.text for c in run.samples("run", run.columns[0].key)] == ["good-model says hi"] * 2


def test_run_wait_without_batch_and_batch_with_turns_are_refused(
    server: FakeLLM, prompt: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    base = ["run", str(prompt), "--var", "name=Ada", "--base-url", server.base_url]
    base += ["--model", "good-model"]
    alone = cli(*base, "--wait", home=home)
    assert alone.returncode == 2 and "give --batch too" in alone.stderr
    turns = cli(*base, "--batch", "--turn", "more", home=home)
    assert turns.returncode == 2 and "not with --turn" in turns.stderr
    assert "Traceback" not in alone.stderr + turns.stderr


def test_run_batch_wait_json_gives_the_samples_as_data(
    server: FakeLLM, prompt: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    done = _run_batch(server, prompt, home, 2, "--wait", "--poll-every", "0.1", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["evaluation"] == 1
    assert [(a["label"], a["sample"], a["text"]) for a in data["answers"]] == [
        ("good-model #1", 1, "good-model says hi"),
        ("good-model #2", 2, "good-model says hi"),
    ]
    assert all(a["status"] == "done" and a["error"] is None for a in data["answers"])
