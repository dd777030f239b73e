"""``eval --dry-run`` shows the plan and sends nothing; ``--max-cost`` stops in budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptstudio.settings.store import SettingsStore
from tests.cli.test_cli_eval import _config, _eval, _evaluations, _models, server
from tests.fake_llm import FakeLLM

__all__ = ["server"]  # the fixture, shared with test_cli_eval


def test_dry_run_prints_the_plan_and_sends_nothing(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    SettingsStore(home).update({"prices.overrides": "good-model: 1000, 2000"})
    config = _config(tmp_path / "promptfooconfig.yaml")
    args = [str(config), *_models(server, "good-model"), "--max-tokens", "5"]
    code, out, err = _eval(capsys, home, *args, "--dry-run")
    assert code == 0, err
    assert server.requests == [] and server.chat_requests() == []
    assert "dry run: nothing sent" in out
    assert "good-model: 4 requests, 0 cached (free)" in out
    assert "max_tokens 5 each" in out and "characters / 4" in out
    assert "total: 4 requests" in out
    assert not (home / "library.sqlite3").exists() or _no_prompt(home)
    code, _out, err = _eval(capsys, home, *args)  # now for real: the answers are cached
    assert code == 0, err
    assert "plan:" not in err  # unasked (no budget), the plan would render every case first
    code, _out, err = _eval(capsys, home, *args, "--max-cost", "5")
    assert code == 0, err
    assert "plan: total: 0 requests" in err and "budget: $5" in err
    code, out, err = _eval(capsys, home, *args, "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert (plan["requests"], plan["cached"], plan["cost"]) == (0, 4, 0)
    assert len(server.chat_requests()) == 4


def _no_prompt(home: Path) -> bool:
    try:
        return _evaluations(home, "Sums") == []
    except ValueError:  # no such prompt
        return True


def test_max_cost_stops_before_exceeding_and_stores_what_finished(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    SettingsStore(home).update({"prices.overrides": "good-model: 1000, 2000"})
    config = _config(tmp_path / "promptfooconfig.yaml")
    args = [str(config), *_models(server, "good-model"), "--max-tokens", "5"]
    code, out, err = _eval(capsys, home, *args, "--max-cost", "0.035")
    assert code == 1
    sent = len(server.chat_requests())
    assert 0 < sent < 4
    assert "stopped for budget" in err and "stopped for budget" in out
    [run] = _evaluations(home, "Sums")
    assert len(run.cells) == sent  # what finished is stored
    stop = run.settings["stopped_for_budget"]
    assert stop["max_cost"] == 0.035 and 0 < stop["spent"] <= 0.035
    assert sum(cell.cost for cell in run.cells.values()) == pytest.approx(stop["spent"])


def test_the_budget_setting_applies_and_a_bad_amount_is_refused(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    SettingsStore(home).update(
        {"prices.overrides": "good-model: 1000, 2000", "evaluate.max_cost": 0.0}
    )
    config = _config(tmp_path / "promptfooconfig.yaml")
    args = [str(config), *_models(server, "good-model"), "--max-tokens", "5"]
    code, _out, err = _eval(capsys, home, *args)
    assert code == 1 and "stopped for budget: $0 spent of $0" in err
    assert server.chat_requests() == []
    with pytest.raises(SystemExit) as stop:
        _eval(capsys, home, *args, "--max-cost", "lots")
    assert stop.value.code == 2 and "not an amount of US dollars" in capsys.readouterr().err


def test_dry_run_plans_the_judges_requests_too(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    SettingsStore(home).update({"prices.overrides": "good-model: 1000, 2000"})
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "description: Judged\nprompts:\n  - 'What is {{ a }} + {{ b }}?'\ntests:\n"
        "  - vars: {a: 1, b: 2}\n    assert: [{type: llm-rubric, value: 'Says 3'}]\n"
        "  - vars: {a: 2, b: 2}\n    assert: [{type: equals, value: '4'}]\n",
        encoding="utf-8",
    )
    args = [str(config), *_models(server, "good-model"), "--max-tokens", "5"]
    code, out, err = _eval(capsys, home, *args, "--judge", "good-model", "--dry-run")
    assert code == 0, err
    assert server.requests == []
    assert "judge good-model: 1 requests, 0 cached (free)" in out
    assert "total: 3 requests" in out and "not in this plan" not in out
    code, out, err = _eval(capsys, home, *args, "--judge", "good-model", "--dry-run", "--json")
    plan = json.loads(out)["plan"]
    [judge] = [m for m in plan["models"] if m["column"] == "judge"]
    assert judge["requests"] == 1 and judge["cost"] > 0
    assert plan["cost"] == pytest.approx(sum(m["cost"] for m in plan["models"]))
