"""``promptstudio cases import|export``: a prompt's test cases as files, through the
installed entry point."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from promptstudio.exchange import PromptDocument, to_prompty
from promptstudio.exchange.case_files import cases_from_file
from tests.cli.test_cli import cli

CSV = (
    "question,__expected,__expected1,__description\n"
    "Capital of France?,Paris,,easy\n"
    "Capital of Spain?,,contains: Madrid,\n"
    "Anything?,,javascript: output.length > 0,kept for promptfoo\n"
)


def _library_with_a_prompt(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    source = tmp_path / "capitals.prompty"
    doc = PromptDocument(name="Capitals", template="user:\n{{ question }}")
    doc.variables = {"question": ""}
    source.write_text(to_prompty(doc), encoding="utf-8")
    done = cli("import", str(source), home=home)
    assert done.returncode == 0, done.stderr
    return home


def _case_ids(home: Path) -> list[int]:
    db = sqlite3.connect(home / "library.sqlite3")
    try:
        return [row[0] for row in db.execute("SELECT id FROM test_cases ORDER BY position")]
    finally:
        db.close()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_cases_go_in_from_csv_and_out_in_every_format(tmp_path: Path, suffix: str) -> None:
    home = _library_with_a_prompt(tmp_path)
    cases = tmp_path / "cases.csv"
    cases.write_text(CSV, encoding="utf-8")

    done = cli("cases", "import", "Capitals", str(cases), home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Capitals: 3 test cases from cases.csv (replacing 0)"
    ids = _case_ids(home)

    out = tmp_path / f"out{suffix}"
    done = cli("cases", "export", "Capitals", "-o", str(out), home=home)
    assert done.returncode == 0, done.stderr
    assert "wrote 3 test cases of Capitals" in done.stderr
    assert cases_from_file(out) == cases_from_file(cases)

    done = cli("cases", "import", "Capitals", str(out), "--json", home=home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed"] is False
    assert _case_ids(home) == ids  # nothing replaced: the cases keep their ids


def test_eval_uses_the_imported_cases(tmp_path: Path) -> None:
    home = _library_with_a_prompt(tmp_path)
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"vars": {"question": "q"}, "expected": "a"}\n', encoding="utf-8")
    assert cli("cases", "import", "Capitals", str(cases), home=home).returncode == 0
    done = cli("export", "Capitals", "-f", "promptfoo", home=home)
    assert "value: a" in done.stdout  # the stored case, as an equals check


def test_bad_files_and_unknown_prompts_are_refused_with_nothing_stored(tmp_path: Path) -> None:
    home = _library_with_a_prompt(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("question,__expected\nx,regex: (\n", encoding="utf-8")
    done = cli("cases", "import", "Capitals", str(bad), home=home)
    assert done.returncode == 1
    assert done.stderr.startswith("promptstudio: bad.csv, line 2: Row 2, __expected:")
    assert "Traceback" not in done.stderr
    assert _case_ids(home) == []

    good = tmp_path / "good.jsonl"
    good.write_text('{"question": "x"}\n', encoding="utf-8")
    done = cli("cases", "import", "Nope", str(good), home=home)
    assert (done.returncode, done.stderr) == (
        1,
        "promptstudio: no prompt named or numbered 'Nope'\n",
    )
    done = cli("cases", "export", "Capitals", "-o", str(tmp_path / "x.txt"), home=home)
    assert done.returncode == 1
    assert "test cases are kept in .csv, .jsonl, .ndjson or .json files" in done.stderr
