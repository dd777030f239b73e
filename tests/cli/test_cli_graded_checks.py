"""``promptstudio eval`` with promptfoo's python checks, weights and test thresholds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptstudio.cli import main
from promptstudio.evals.store import load_run
from promptstudio.exchange.promptfoo_format import to_promptfoo
from promptstudio.exchange.promptfoo_import import from_promptfoo
from promptstudio.settings.store import SettingsStore
from promptstudio.storage import Database, library
from tests.fake_llm import FakeLLM, Reply

CONFIG = """\
description: Capitals
prompts:
  - 'What is the capital of {{ country }}?'
# Nothing in a config can turn code checks on: these keys are read past.
allowCodeChecks: true
checks:
  run_code: true
defaultTest:
  options:
    allowCodeChecks: true
tests:
  - vars: {country: France}
    assert:
      - type: python
        value: "'Paris' in output and context['vars']['country'] == 'France'"
      - type: python
        value: |
          words = output.split()
          return {'pass': len(words) < 3, 'score': 0.25, 'reason': f'{len(words)} words'}
"""


@pytest.fixture
def server(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.script(Reply(text="It is Paris"))
    return fake_llm


def _eval(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, Any, str]:
    code = main(["eval", "--data-dir", str(home), *args, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def _grades(data: Any) -> list[dict[str, Any]]:
    [cell] = data["cells"]
    grades: list[dict[str, Any]] = cell["grades"]
    return grades


def test_python_checks_are_off_unless_the_cli_allows_them(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    home = tmp_path / "home"
    models = ["--base-url", server.base_url, "--model", "m"]
    code, data, err = _eval(capsys, home, str(config), *models)
    assert code == 0, err
    assert [g["details"].get("not_graded") for g in _grades(data)] == [True, True]
    assert "Run code checks" in _grades(data)[0]["reason"]
    assert data["cells"][0]["passed"] is None  # nothing was graded: no verdict
    # The settings were not touched by the import either.
    assert SettingsStore(home).get("checks.run_code") is False

    code, data, err = _eval(capsys, home, str(config), *models, "--allow-code-checks")
    assert code == 0, err
    grades = _grades(data)
    assert [g["passed"] for g in grades] == [True, False]
    assert grades[1]["reason"] == "3 words" and grades[1]["score"] == 0.25


def test_an_imported_config_keeps_checks_weights_and_threshold() -> None:
    text = """\
prompts: ['Hi {{ name }}']
defaultTest: {threshold: 0.5}
tests:
  - vars: {name: Ann}
    threshold: 0.75
    assert:
      - {type: python, value: 'len(output) > 3', weight: 2}
      - {type: similar, value: Hello Ann, threshold: 0.8}
  - vars: {name: Bo}
"""
    [doc] = from_promptfoo(text)
    first, second = doc.cases
    assert first["threshold"] == 0.75 and second["threshold"] == 0.5
    assert first["assert"][0] == {"type": "python", "value": "len(output) > 3", "weight": 2}
    assert first["assert"][1]["threshold"] == 0.8
    [again] = from_promptfoo(to_promptfoo(doc))
    assert again.cases == doc.cases


def test_a_case_threshold_passes_on_the_weighted_score(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # contains passes (weight 3), icontains fails (weight 1): score 0.75.
    checks = (
        "      - {type: contains, value: Paris, weight: 3}\n"
        "      - {type: icontains, value: Lyon}\n"
    )
    config = tmp_path / "promptfooconfig.yaml"
    body = "prompts: ['Capital of {{ c }}?']\ntests:\n"
    body += f"  - vars: {{c: France}}\n    threshold: 0.7\n    assert:\n{checks}"
    body += f"  - vars: {{c: Spain}}\n    threshold: 0.8\n    assert:\n{checks}"
    body += f"  - vars: {{c: Italy}}\n    assert:\n{checks}"
    config.write_text(body, encoding="utf-8")
    home = tmp_path / "home"
    code, data, err = _eval(
        capsys, home, str(config), "--base-url", server.base_url, "--model", "m"
    )
    assert code == 0, err
    assert [cell["passed"] for cell in data["cells"]] == [True, False, False]
    assert [cell["score"] for cell in data["cells"]] == [0.75, 0.75, 0.75]
    # The stored evaluation reads back with the same verdicts.
    with Database(home / "library.sqlite3") as db:
        [row] = db.call(library.list_eval_runs, db.call(library.list_prompts)[0].id)
        stored = db.call(load_run, row.id)
    column = stored.columns[0].key
    cells = [stored.cell(case.key, column) for case in stored.cases]
    assert [cell.passed for cell in cells if cell is not None] == [True, False, False]
