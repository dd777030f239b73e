"""``promptstudio eval --batch`` and ``promptstudio batches`` against the fake batch APIs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from promptstudio.cli import main
from promptstudio.evals.store import load_run
from promptstudio.settings.store import SettingsStore
from promptstudio.storage import Database, library
from promptstudio.storage import batches as stored
from tests.cli.test_cli_eval import _arithmetic, _config
from tests.fake_llm import FakeLLM, Reply


@pytest.fixture
def server(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.respond(_arithmetic)
    fake_llm.batches.seconds = 0.3
    return fake_llm


def _cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args[:1], "--data-dir", str(home), *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def _submit(
    capsys: pytest.CaptureFixture[str], home: Path, server: FakeLLM, tmp_path: Path, *more: str
) -> tuple[int, str, str]:
    """``eval sums.yaml --batch`` on good-model (and ``more`` options)."""
    config = _config(tmp_path / "sums.yaml")
    return _cli(
        capsys,
        home,
        "eval",
        str(config),
        "--base-url",
        server.base_url,
        "--model=good-model",
        "--batch",
        *more,
    )


def _collect_until_stored(
    capsys: pytest.CaptureFixture[str], home: Path, *batch: str
) -> tuple[int, str, str]:
    """``batches collect [ID]`` until it stores (the fake batch ends within a second)."""
    for _ in range(400):
        code, out, err = _cli(capsys, home, "batches", "collect", *batch)
        if "stored" in out:
            break
    return code, out, err


def _runs(home: Path) -> list[Any]:
    with Database(home / "library.sqlite3") as db:
        [prompt] = db.call(library.list_prompts)
        return [db.call(load_run, row.id) for row in db.call(library.list_eval_runs, prompt.id)]


def _batches(home: Path) -> list[stored.BatchRow]:
    with Database(home / "library.sqlite3") as db:
        return db.call(stored.list_batches)


def test_eval_batch_wait_sends_one_batch_per_model_and_stores_graded_cells(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "sums.yaml")
    code, out, err = _cli(
        capsys,
        isolated_home,
        "eval",
        str(config),
        "--base-url",
        server.base_url,
        "--model=good-model",
        "--model=bad-model",
        "--batch",
        "--wait",
        "--poll-every",
        "0.1",
    )
    assert code == 0, err
    assert not server.chat_requests()  # nothing live: all through /v1/batches
    created = [r for r in server.requests_to("/v1/batches") if r.method == "POST"]
    assert len(created) == 2
    [run] = _runs(isolated_home)
    assert run.status == "done" and run.settings["batch"] is True
    cells = [run.cell(case.key, column.key) for case in run.cases for column in run.columns]
    assert all(cell is not None and cell.batch for cell in cells)
    good = [cell for cell in cells if cell and cell.column_key == run.columns[0].key]
    assert all(cell.passed for cell in good)
    assert "good-model" in out and "4/4 100%" in out and "2/4 50%" in out, out
    assert all(b.collected for b in _batches(isolated_home))


def test_eval_batch_exits_at_once_and_a_new_process_collects_after_a_kill(
    server: FakeLLM, tmp_path: Path, isolated_home: Path
) -> None:
    """Submit in one process, kill it while it waits, collect in another: nothing lost."""
    server.batches.seconds = 1.0
    config = _config(tmp_path / "sums.yaml")
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(isolated_home)}
    command = [
        sys.executable,
        "-m",
        "promptstudio",
        "eval",
        str(config),
        "--base-url",
        server.base_url,
        "--model=good-model",
        "--batch",
        "--wait",
        "--poll-every",
        "30",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        said: list[str] = []  # --wait says what it sent on stderr (the results go to stdout)
        while process.stderr and not (said and said[-1].startswith("batch 1 ")):
            said.append(process.stderr.readline())
            assert said[-1], said  # not ended before sending
    finally:
        process.kill()
        process.wait(10)
    [batch] = _batches(isolated_home)
    assert batch.remote_id and not batch.collected
    assert _runs(isolated_home)[0].status == "pending"
    collect = [sys.executable, "-m", "promptstudio", "batches", "collect"]
    done = subprocess.run(collect, env=env, capture_output=True, text=True, timeout=60)
    for _ in range(100):  # each try is a new process; the fake batch ends within a second
        if "stored" in done.stdout:
            break
        done = subprocess.run(collect, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "4 answers stored in evaluation 1" in done.stdout
    [run] = _runs(isolated_home)
    assert run.status == "done" and len(run.cells) == 4
    again = subprocess.run([*collect, "1"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "collected already into evaluation 1" in again.stderr
    assert len(_runs(isolated_home)[0].cells) == 4  # collected once


def test_batches_list_status_and_cancel(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.batches.seconds = 30
    code, out, err = _submit(capsys, isolated_home, server, tmp_path)
    assert code == 0, err
    assert "pending" in err and "batch 1" in out
    remote = _batches(isolated_home)[0].remote_id
    assert remote is not None and remote in out
    code, out, _ = _cli(capsys, isolated_home, "batches", "list")
    assert code == 0 and remote in out
    code, out, _ = _cli(capsys, isolated_home, "batches", "status", remote)
    assert code == 0 and "validating" in out
    code, out, err = _cli(capsys, isolated_home, "batches", "cancel", "1")
    assert code == 0, err
    assert "cancel" in out
    for batch in server.batches.batches.values():
        batch.seconds = 0.1  # the cancel takes effect at once now
    code, out, err = _collect_until_stored(capsys, isolated_home, "1")
    assert "The batch was cancelled" in out
    [run] = _runs(isolated_home)
    assert run.status == "done"
    assert all(c.status == "failed" and "cancelled" in (c.error or "") for c in run.cells.values())


def test_a_network_failure_while_polling_loses_nothing(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _submit(capsys, isolated_home, server, tmp_path)
    assert code == 0, err
    server.batches.drop_polls = 1
    code, out, err = _cli(capsys, isolated_home, "batches", "collect")
    assert code == 1
    assert "could not ask the provider" in err and "nothing is lost" in err
    assert "Traceback" not in err
    assert not _batches(isolated_home)[0].collected
    code, out, err = _collect_until_stored(capsys, isolated_home)
    assert code == 0 and "4 answers stored" in out


def test_a_server_without_batches_is_refused_before_anything_is_stored(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.batches.enabled = False
    code, _, err = _submit(capsys, isolated_home, server, tmp_path)
    assert code == 2
    assert "does not offer batches" in err and "Traceback" not in err
    assert _batches(isolated_home) == [] if (isolated_home / "library.sqlite3").exists() else True


def test_per_line_errors_and_a_malformed_line_fail_only_their_cells(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def answers(model: str, body: dict[str, Any]) -> Reply | None:
        if "6 + 7" in body["messages"][-1]["content"]:
            return Reply(status=400, error_message="This prompt is refused.")
        return _arithmetic(model, body)

    server.respond(answers)
    server.batches.fault = "malformed_line"
    code, _, _ = _submit(capsys, isolated_home, server, tmp_path, "--wait", "--poll-every", "0.1")
    assert code == 1
    [run] = _runs(isolated_home)
    errors = sorted(cell.error or "" for cell in run.cells.values() if cell.status == "failed")
    assert len(errors) == 2
    assert any("could not be read" in e for e in errors)
    assert any("This prompt is refused" in e for e in errors)
    assert sum(1 for cell in run.cells.values() if cell.passed) == 2


def test_wait_without_batch_is_a_usage_error(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "sums.yaml")
    code, _, err = _cli(
        capsys,
        isolated_home,
        "eval",
        str(config),
        "--base-url",
        server.base_url,
        "--model=good-model",
        "--wait",
    )
    assert code == 2 and "--wait polls batches: give --batch too" in err
    assert not server.requests


def test_the_plan_and_the_budget_use_the_batch_price(
    server: FakeLLM,
    tmp_path: Path,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    SettingsStore(isolated_home).update({"prices.overrides": "good-model: 1000, 2000"})
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-fake-openai-key-for-the-test")
    added = _cli(
        capsys,
        isolated_home,
        "providers",
        "add",
        "oa",
        "--name",
        "OpenAI (fake)",
        "--base-url",
        server.base_url,
        "--kind",
        "openai",
        "--key-env",
        "FAKE_OPENAI_KEY",
    )
    assert added[0] == 0, added[2]
    config = str(_config(tmp_path / "sums.yaml"))
    base = ["eval", config, "--profile", "oa", "--model=good-model"]
    live = json.loads(_cli(capsys, isolated_home, *base, "--dry-run", "--json")[1])
    batch = json.loads(_cli(capsys, isolated_home, *base, "--dry-run", "--json", "--batch")[1])
    live_cost, batch_cost = live["plan"]["models"][0]["cost"], batch["plan"]["models"][0]["cost"]
    assert batch_cost == pytest.approx(live_cost / 2) and batch_cost > 0
    code, _, err = _cli(
        capsys, isolated_home, *base, "--batch", "--max-cost", f"{batch_cost * 0.9}"
    )
    assert code == 1 and "at the batch price" in err and "nothing was sent" in err
    assert not [r for r in server.requests if r.method == "POST"]
    code, out, err = _cli(
        capsys, isolated_home, *base, "--batch", "--max-cost", f"{live_cost * 0.9}"
    )
    assert code == 0, err  # over the live price, within the batch price: sent
    assert "batch 1" in out


def test_the_json_results_mark_batch_answers_and_split_the_cost(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SettingsStore(isolated_home).update({"prices.overrides": "good-model: 1000, 2000"})
    code, out, err = _submit(
        capsys, isolated_home, server, tmp_path, "--wait", "--poll-every", "0.1", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert all(cell["batch"] is True for cell in data["cells"])
    [summary] = data["summary"]
    assert summary["total_cost"] > 0
    assert summary["batch_cost"] == pytest.approx(summary["total_cost"])
    assert summary["live_cost"] == 0


def test_compare_skips_an_evaluation_still_waiting_on_its_batches(
    server: FakeLLM, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.batches.seconds = 600
    code, _, err = _submit(capsys, isolated_home, server, tmp_path)
    assert code == 0, err
    config = str(tmp_path / "sums.yaml")
    code, _, err = _cli(
        capsys,
        isolated_home,
        "eval",
        config,
        "--base-url",
        server.base_url,
        "--model=good-model",
        "--compare",
    )
    assert code == 0, err
    assert "no earlier evaluation to compare with" in err
