"""``promptstudio eval``: test cases × models from the terminal, in process, on a fake server."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from promptstudio.cli import main
from promptstudio.credentials import KeyStore
from promptstudio.evals.store import load_run
from promptstudio.settings.store import SettingsStore
from promptstudio.storage import Database, library
from tests.fake_llm import FakeLLM, Reply

SENTINEL = "sk-eval-SENTINEL-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
NO_RETRY = {"x-should-retry": "false"}  # a 500 answered at once, not after backoff
SUMS = [(1, 2), (2, 2), (6, 7), (8, 9)]


def _config(path: Path, prompt: str = "What is {{ a }} + {{ b }}? Reply with the number.") -> Path:
    tests = "".join(
        f"  - vars: {{a: {a}, b: {b}}}\n    assert: [{{type: equals, value: '{a + b}'}}]\n"
        for a, b in SUMS
    )
    path.write_text(
        f"description: Sums\nprompts:\n  - '{prompt}'\ntests:\n{tests}", encoding="utf-8"
    )
    return path


def _arithmetic(model: str, body: dict[str, Any]) -> Reply | None:
    """good-model adds; bad-model is one off when a > 5; broken-model fails; "carefully"
    makes good-model wrong on 2 + 2 (a prompt change that breaks one case)."""
    text = body["messages"][-1]["content"]
    a, b = (int(n) for n in re.findall(r"\d+", text)[:2])
    if model == "broken-model":
        return Reply(status=500, headers=NO_RETRY)
    if model == "good-model":
        wrong = "carefully" in text and a == b == 2
    else:
        wrong = model == "bad-model" and a > 5
    return Reply(text=str(a + b + (1 if wrong else 0)))


@pytest.fixture
def server(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.respond(_arithmetic)
    return fake_llm


def _eval(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["eval", "--data-dir", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _models(server: FakeLLM, *names: str) -> list[str]:
    return ["--base-url", server.base_url, *(f"--model={name}" for name in names)]


def _evaluations(home: Path, name: str) -> list[Any]:
    with Database(home / "library.sqlite3") as db:
        [prompt] = [p for p in db.call(library.list_prompts) if p.name == name]
        return [db.call(load_run, row.id) for row in db.call(library.list_eval_runs, prompt.id)]


def _row(out: str, model: str) -> list[str]:
    [line] = [line for line in out.splitlines() if line.startswith(model + " ")]
    return line.split()


def test_a_promptfoo_config_on_two_models_table_and_pass_rate_gate(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "promptfooconfig.yaml")
    home = tmp_path / "home"
    code, out, err = _eval(capsys, home, str(config), *_models(server, "good-model", "bad-model"))
    assert code == 0, err
    assert len(server.chat_requests()) == 8
    assert _row(out, "good-model")[1:3] == ["4/4", "100%"]
    assert _row(out, "bad-model")[1:5] == ["2/4", "50%", "(15–85%)", "0.50"]
    failures = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(failures) == 2
    assert failures[0].startswith("✗ case 3 (a=6, b=7) on bad-model: equals:")
    assert "expected '3', got '4'" in failures[0]  # from character 2 on
    assert failures[1].startswith("✗ case 4 (a=8, b=9) on bad-model:")
    assert "  8/8 answers" in err  # progress, on stderr only
    assert "answers" not in out

    code, _out, err = _eval(
        capsys, home, str(config), *_models(server, "good-model", "bad-model"),
        "--min-pass-rate", "0.75",
    )  # fmt: skip
    assert code == 1
    assert "bad-model passes 50%, below --min-pass-rate 75%" in err
    assert "good-model passes" not in err
    code, _out, err = _eval(
        capsys, home, str(config), *_models(server, "good-model", "bad-model"),
        "--min-pass-rate", "50%",
    )  # fmt: skip
    assert code == 0, err
    [stored, *_] = _evaluations(home, "Sums")
    assert stored.status == "done" and len(stored.cells) == 8
    assert [c.model for c in stored.columns] == ["good-model", "bad-model"]


def test_a_promptfoo_check_not_graded_here_is_listed_and_the_rest_is_graded(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "prompts: ['What is {{ a }} + {{ b }}?']\n"
        "tests:\n"
        "  - vars: {a: 1, b: 2}\n"
        "    assert: [{type: python, value: 'len(output) < 3'}, {type: equals, value: '3'}]\n"
        "  - vars: {a: 6, b: 7}\n"
        "    assert: [{type: similar, value: '13', threshold: 0.9}]\n",
        encoding="utf-8",
    )
    code, out, err = _eval(capsys, tmp_path / "home", str(config), *_models(server, "bad-model"))
    assert code == 0, err
    assert len(server.chat_requests()) == 2
    assert _row(out, "bad-model")[1:3] == ["1/1", "100%"]  # case 2 has nothing graded
    config.write_text(
        "prompts: ['What is {{ a }} + {{ b }}?']\n"
        "tests: [{vars: {a: 1, b: 1}, assert: [{type: python, value: 'True'}]}]\n",
        encoding="utf-8",
    )
    _code, only_ungraded, _err = _eval(capsys, tmp_path / "h2", str(config),
                                        *_models(server, "bad-model"))  # fmt: skip
    assert _row(only_ungraded, "bad-model")[1:3] == ["not", "graded"]
    assert [line for line in out.splitlines() if line.startswith("–")] == [
        "– case 1 (a=1, b=2): python — Not graded: code checks are off. Turn on 'Run code "
        "checks' in Settings (the CLI: --allow-code-checks) to run this Python check.",
        "– case 2 (a=6, b=7): similar — Not graded: 'similar' needs an embeddings endpoint "
        "(Settings → Checks).",
    ]


def test_json_has_the_results_the_prompt_and_no_key(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    KeyStore().set(server.base_url, SENTINEL)
    config = _config(tmp_path / "promptfooconfig.yaml")
    home = tmp_path / "home"
    code, out, err = _eval(
        capsys, home, str(config), *_models(server, "good-model", "bad-model"), "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    [stored] = _evaluations(home, "Sums")
    assert (data["prompt"], data["eval_id"], data["version"]) == ("Sums", stored.id, 1)
    assert "flips" not in data
    assert [c["model"] for c in data["columns"]] == ["good-model", "bad-model"]
    assert len(data["cases"]) == 4 and len(data["cells"]) == 8
    summary = {s["label"]: s for s in data["summary"]}
    assert (summary["good-model"]["passed"], summary["bad-model"]["passed"]) == (4, 2)
    assert summary["bad-model"]["pass_rate"] == 0.5
    wrong = [c["text"] for c in data["cells"] if c["passed"] is False]
    assert wrong == ["14", "18"]
    # The key was sent, and is nowhere else.
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert SENTINEL not in out + err
    assert not any(SENTINEL.encode() in p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_a_rerun_is_served_from_the_cache_unless_fresh(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    SettingsStore(home).update({"prices.overrides": "good-model: 1000, 2000"})
    config = _config(tmp_path / "promptfooconfig.yaml")
    args = [str(config), *_models(server, "good-model"), "--json"]

    def summary() -> dict[str, Any]:
        code, out, err = _eval(capsys, home, *args)
        assert code == 0, err
        [only] = json.loads(out)["summary"]
        return dict(only)

    first = summary()
    assert (first["cached"], len(server.chat_requests())) == (0, 4)
    assert first["total_cost"] > 0
    again = summary()
    assert len(server.chat_requests()) == 4  # nothing asked
    assert (again["cached"], again["total_cost"], again["passed"]) == (4, 0, 4)
    args.append("--fresh")
    fresh = summary()
    assert len(server.chat_requests()) == 8
    assert fresh["cached"] == 0 and fresh["total_cost"] == pytest.approx(first["total_cost"])
    _code, out, _err = _eval(capsys, home, *args[:-2])  # the table says it too
    assert _row(out, "good-model")[-3:] == ["$0", "4", "0"]


def test_compare_lists_the_cases_that_flipped(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    config = _config(tmp_path / "promptfooconfig.yaml")
    models = _models(server, "good-model", "bad-model")
    code, out, err = _eval(capsys, home, str(config), *models, "--compare")
    assert code == 0, err
    assert "no earlier evaluation to compare with" in err
    assert "→" not in out

    _config(config, "Add carefully: {{ a }} + {{ b }}")
    code, out, err = _eval(capsys, home, str(config), *models, "--compare")
    assert code == 0, err
    flips = [line for line in out.splitlines() if "→" in line]
    assert flips == ["✓→✗ case 2 (a=2, b=2) on good-model"]
    assert "changed since v1" in out

    code, out, err = _eval(capsys, home, str(config), *models, "--compare", "--json")
    data = json.loads(out)
    assert data["version"] == 2 and data["compared_with"]["version"] == 2
    assert data["flips"] == []  # the same version again: nothing changed
    _config(config)  # back to the first wording: the case is fixed
    code, out, err = _eval(capsys, home, str(config), *models, "--compare", "--json")
    [flip] = json.loads(out)["flips"]
    assert (flip["number"], flip["model"], flip["before"], flip["after"]) == (
        2, "good-model", False, True,
    )  # fmt: skip


def test_a_library_prompt_runs_its_stored_cases_columns_and_checks(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    column = {"id": "c1", "base_url": server.base_url, "model": "good-model", "params": {}}
    with Database(home / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Adder", "Maths")
        db.call(library.save_version, prompt.id, "Sum {{ a }} and {{ b }}", {},
                {"columns": [column]})  # fmt: skip
        rows = db.call(library.replace_cases, prompt.id, [
            {"vars": {"a": 1, "b": 1}, "expected": "2"},
            {"vars": {"a": 3, "b": 4}, "description": "bigger", "expected": "8"},
        ])  # fmt: skip
        db.call(library.set_eval_settings, prompt.id,
                asserts=[{"type": "regex", "value": r"^\d+$"}],
                judge_prompt=None, judge_column=None)  # fmt: skip
    code, out, err = _eval(capsys, home, str(prompt.id), "--json")
    assert code == 0, err  # a failed check is not a failed run
    data = json.loads(out)
    assert data["prompt"] == "Adder"
    assert [c["id"] for c in data["cases"]] == [str(r.id) for r in rows]
    graders = [[g["grader"] for g in cell["grades"]] for cell in data["cells"]]
    assert graders == [["regex", "equals"], ["regex", "equals"]]
    assert [cell["passed"] for cell in data["cells"]] == [True, False]
    code, out, err = _eval(capsys, home, "Adder")
    assert code == 0, err
    assert "✗ case 2 (bigger) on good-model: equals:" in out
    assert _row(out, "good-model")[1:3] == ["1/2", "50%"]
    assert len(_evaluations(home, "Adder")) == 2


def test_cases_from_a_csv_file_and_csv_output(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "adder.prompt"
    template.write_text("user:\n{{ a }} plus {{ b }}?\n", encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text("a,b,__expected\n1,1,2\n6,1,7\n2,5,contains: 7\n", encoding="utf-8")
    home = tmp_path / "home"
    code, out, err = _eval(capsys, home, str(template), "--cases", str(cases),
                           *_models(server, "bad-model"), "--csv")  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["a"], row["b"], row["model"], row["passed"]) for row in rows] == [
        ("1", "1", "bad-model", "pass"), ("6", "1", "bad-model", "fail"),
        ("2", "5", "bad-model", "pass"),
    ]  # fmt: skip
    assert rows[1]["answer"] == "8"
    [stored] = _evaluations(home, "adder")
    assert [case.vars for case in stored.cases] == [
        {"a": "1", "b": "1"}, {"a": "6", "b": "1"}, {"a": "2", "b": "5"},
    ]  # fmt: skip


def test_no_test_cases_is_a_usage_error_and_stores_nothing(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "lonely.prompt"
    template.write_text("Hello {{ name }}\n", encoding="utf-8")
    home = tmp_path / "home"
    code, out, err = _eval(capsys, home, str(template), *_models(server, "good-model"))
    assert code == 2
    assert "lonely has no test cases" in err and "--cases FILE" in err
    assert out == "" and server.chat_requests() == []
    with Database(home / "library.sqlite3") as db:
        assert db.call(library.list_prompts) == []
    code, _out, err = _eval(capsys, home, "Nowhere")
    assert code == 2 and "Nowhere: no such file, and no prompt named" in err


def test_an_llm_rubric_needs_a_judge(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "rubric.yaml"
    config.write_text(
        "description: Polite\nprompts: ['Greet {{ who }}']\n"
        "tests:\n  - vars: {who: Ada}\n    assert: [{type: llm-rubric, value: is polite}]\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    code, out, err = _eval(capsys, home, str(config), *_models(server, "good-model"))
    assert code == 2
    assert "an 'llm-rubric' check needs a judge model" in err
    assert out == "" and server.chat_requests() == []
    code, _out, err = _eval(capsys, home, str(config), *_models(server, "good-model"),
                            "--judge", "other-model")  # fmt: skip
    assert code == 2 and "--judge other-model: not one of the models" in err

    verdict = json.dumps({"reason": "kind", "score": 1, "pass": True})
    server.respond(
        lambda model, body: Reply(text=verdict if "rubric" in json.dumps(body) else "Hi Ada!")
    )
    code, out, err = _eval(capsys, home, str(config), *_models(server, "good-model"),
                           "--judge", "good-model", "--json")  # fmt: skip
    assert code == 0, err
    [cell] = json.loads(out)["cells"]
    assert cell["passed"] is True and cell["grades"][0]["grader"] == "llm-rubric"
    assert len(server.chat_requests()) == 2  # the answer, then the judge


def test_a_failing_model_exits_1_with_the_error_in_the_table(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "promptfooconfig.yaml")
    home = tmp_path / "home"
    code, out, err = _eval(
        capsys, home, str(config), *_models(server, "good-model", "broken-model")
    )
    assert code == 1
    assert _row(out, "good-model")[-1] == "0"
    broken = _row(out, "broken-model")
    assert broken[1:3] == ["0/4", "0%"] and broken[-1] == "4"
    failures = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(failures) == 4 and all(" on broken-model: " in line for line in failures)
    assert "The fake server failed on purpose" in failures[0]
    assert "broken-model: 4 of 4 answers failed" in err
    assert "good-model:" not in err
    [stored] = _evaluations(home, "Sums")
    assert {cell.status for cell in stored.cells.values()} == {"done", "failed"}


def test_ctrl_c_stores_what_finished_and_exits_130(
    server: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "promptfooconfig.yaml")
    home = tmp_path / "home"

    def interrupt_the_third(model: str, body: dict[str, Any]) -> Reply | None:
        if len(server.chat_requests()) == 3:  # a local server: one request at a time
            os.kill(os.getpid(), signal.SIGINT)
            return Reply(text="3", first_token_delay=10)
        return _arithmetic(model, body)

    server.respond(interrupt_the_third)
    code, out, err = _eval(capsys, home, str(config), *_models(server, "good-model"))
    assert code == 130
    assert "stopped" in err
    assert _row(out, "good-model")[1:3] == ["2/2", "100%"]
    [stored] = _evaluations(home, "Sums")
    assert stored.status == "cancelled"
    # The fourth case never started: counted, not stored.
    assert sorted(cell.status for cell in stored.cells.values()) == ["cancelled", "done", "done"]
    assert "2 of 4 answers finished, 2 cancelled (1 while running, 1 not started)" in err
