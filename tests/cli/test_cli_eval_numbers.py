"""``eval``'s honest numbers through the installed entry point: intervals in the table, JSON
and CSV, repeats, the paired comparison and ROI line, and the gate on the lower bound."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.test_cli import cli
from tests.cli.test_cli_eval import _arithmetic, _config, _models
from tests.fake_llm import FakeLLM


@pytest.fixture
def server(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.respond(_arithmetic)
    return fake_llm


def test_json_and_csv_carry_every_pass_rate_with_its_interval(
    server: FakeLLM, tmp_path: Path
) -> None:
    config, home = _config(tmp_path / "promptfooconfig.yaml"), tmp_path / "home"
    models = _models(server, "good-model", "bad-model")
    done = cli("eval", str(config), *models, "--json", home=home)
    assert done.returncode == 0, done.stderr
    summary = {s["label"]: s for s in json.loads(done.stdout)["summary"]}
    bad = summary["bad-model"]
    assert (bad["passed"], bad["graded"], bad["pass_rate"]) == (2, 4, 0.5)
    assert bad["pass_rate_low"] == pytest.approx(0.1500, abs=1e-4)
    assert bad["pass_rate_high"] == pytest.approx(0.8500, abs=1e-4)
    assert summary["good-model"]["pass_rate_high"] == 1.0 and bad["confidence"] == 0.95

    done = cli("eval", str(config), *models, "--csv", home=home)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    bad_rows = [row for row in rows if row["column"] == "bad-model"]
    assert {row["model_pass_rate_low"] for row in bad_rows} == {"0.15"}
    assert {row["model_pass_rate_high"] for row in bad_rows} == {"0.85"}
    assert {row["sample"] for row in rows} == {"1"}

    done = cli("eval", str(config), *models, home=home)
    [line] = [line for line in done.stdout.splitlines() if line.startswith("bad-model ")]
    assert "2/4 50% (15–85%)" in line


def test_repeat_asks_n_times_per_cell_once_and_reports_pass_at_k(
    server: FakeLLM, tmp_path: Path
) -> None:
    config, home = _config(tmp_path / "promptfooconfig.yaml"), tmp_path / "home"
    models = _models(server, "good-model")
    done = cli("eval", str(config), *models, "--repeat", "3", home=home)
    assert done.returncode == 0, done.stderr
    assert len(server.chat_requests()) == 4 * 3
    assert "4 cases × 3 samples" in done.stdout
    header = next(line for line in done.stdout.splitlines() if line.startswith("model"))
    assert header.split()[-3:] == ["pass@3", "pass^3", "flaky"]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("good-model ")]
    assert line.split()[-3:] == ["100%", "100%", "0"] and "12/12" in line

    again = cli("eval", str(config), *models, "--repeat", "3", "--json", home=home)
    assert len(server.chat_requests()) == 12  # every sample from the cache
    data = json.loads(again.stdout)
    assert data["repeat"] == 3 and len(data["cells"]) == 12
    assert all(cell["cached"] for cell in data["cells"])
    assert sorted({cell["sample"] for cell in data["cells"]}) == [0, 1, 2]

    bad = cli("eval", str(config), *models, "--repeat", "0", home=home)
    assert bad.returncode == 2 and "--repeat" in bad.stderr and "Traceback" not in bad.stderr


def test_compare_gives_the_paired_test_and_the_roi_line(server: FakeLLM, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = _config(tmp_path / "promptfooconfig.yaml")
    models = _models(server, "good-model", "bad-model")
    cli("eval", str(config), *models, home=home)
    _config(config, "Think carefully: what is {{ a }} + {{ b }}? Reply with the number.")
    done = cli("eval", str(config), *models, "--compare", home=home)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "v2 vs v1 on good-model: pass rate 75% (95% CI 30–95%) vs 100% (51–100%)" in out
    assert "v2 passes 0 cases v1 failed and fails 1 it passed; p = 1: not yet significant" in out
    assert "cost unknown (no price for either model)" in out
    assert "bad-model vs good-model on v2: pass rate 50%" in out

    data = json.loads(cli("eval", str(config), *models, "--compare", "--json", home=home).stdout)
    first = data["comparisons"][0]
    assert first["subject"] == "good-model" and first["unit"] == "case"
    assert (first["gained"], first["lost"], first["p_value"]) == (0, 0, 1.0)
    assert first["roi"].startswith("v2 (evaluation 3) vs v2 (evaluation 2) on good-model")
    assert first["pass_rate_change"]["difference"] == 0.0
    assert "low" in first["pass_rate_change"] and first["new"]["pass_rate_low"] is not None

    page = cli("eval", str(config), *models, "--compare", "--html", home=home).stdout
    assert page.startswith("<!doctype html>") and "<h2>Comparisons</h2>" in page
    assert "<td>2/4 · 50% (95% CI 15–85%)</td>" in page
    assert "bad-model vs good-model on v2: pass rate 50%" in page


def test_the_pass_rate_gate_can_apply_to_the_lower_bound(server: FakeLLM, tmp_path: Path) -> None:
    config, home = _config(tmp_path / "promptfooconfig.yaml"), tmp_path / "home"
    models = _models(server, "good-model")
    plain = cli("eval", str(config), *models, "--min-pass-rate", "0.8", home=home)
    assert plain.returncode == 0  # 4/4 passes 80%
    lower = cli("eval", str(config), *models, "--min-pass-rate-lower", "0.8", home=home)
    assert lower.returncode == 1  # but 4 cases only show it passes at least 51%
    assert "95% CI 51–100%: its lower end is below --min-pass-rate-lower 80%" in lower.stderr
    met = cli("eval", str(config), *models, "--min-pass-rate-lower", "50%", home=home)
    assert met.returncode == 0, met.stderr
