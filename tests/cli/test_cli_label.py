"""``promptstudio label``: a gated label refused with the numbers (exit 1), then allowed once
a better version's evaluation meets the gate; the installed command, a fake server's answers."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from promptstudio.storage import Database, library
from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply

SUMS = [(1, 2), (2, 2), (6, 7), (8, 9)]


def _adder(model: str, body: dict[str, Any]) -> Reply:
    """Adds, except that a prompt saying "carefully" gets 2 + 2 wrong."""
    text = body["messages"][-1]["content"]
    a, b = (int(n) for n in re.findall(r"\d+", text)[:2])
    return Reply(text=str(a + b + int("carefully" in text and a == b == 2)))


def _seed(home: Path) -> int:
    home.mkdir(parents=True, exist_ok=True)
    with Database(home / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Sums")
        db.call(
            library.save_version,
            prompt.id,
            "What is {{ a }} + {{ b }}? Think carefully. Reply with the number.",
            {},
            {},
        )
        db.call(library.replace_cases, prompt.id, [
            {"vars": {"a": a, "b": b}, "assert": [{"type": "equals", "value": str(a + b)}]}
            for a, b in SUMS
        ])  # fmt: skip
        return prompt.id


def _label(home: Path) -> tuple[int, Any] | None:
    with Database(home / "library.sqlite3") as db:
        label = db.call(library.get_label, 1, "production")
        if label is None:
            return None
        return db.call(library.get_version, label.version_id).number, label.gate


def test_a_gated_label_is_refused_then_allowed(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.respond(_adder)
    home = tmp_path / "home"
    prompt_id = _seed(home)
    models = ["--base-url", fake_llm.base_url, "--model", "adder"]
    first = _evaluated(cli("eval", "Sums", *models, home=home))

    refused = cli("label", "Sums", "latest", "production", "--gate-pass-rate", "90%",
                  "--models", "adder", home=home)  # fmt: skip
    assert refused.returncode == 1
    assert f'Label "production" was not created: v{first} does not meet its gate' in (
        refused.stderr
    )
    assert "adder: 3/4 passed (75%" in refused.stderr and "75% is below 90%" in refused.stderr
    assert "Traceback" not in refused.stderr and _label(home) is None

    with Database(home / "library.sqlite3") as db:
        better = db.call(library.save_version, prompt_id,
                         "What is {{ a }} + {{ b }}? Reply with the number.", {}, {})  # fmt: skip
    not_yet = cli("label", "Sums", f"v{better.number}", "production", "--gate-pass-rate",
                  "0.9", "--models", "adder", home=home)  # fmt: skip
    assert not_yet.returncode == 1 and "adder: no evaluation of this version" in not_yet.stderr
    second = _evaluated(cli("eval", "Sums", *models, home=home))
    allowed = cli("label", "Sums", str(second), "production", "--gate-pass-rate", "0.9",
                  "--models", "adder", "--json", home=home)  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    data = json.loads(allowed.stdout)
    assert (data["moved"], data["version"], data["gate"]["pass_rate"]) == (True, second, 0.9)
    [verdict] = data["models"]
    assert (verdict["model"], verdict["met"], verdict["passed"], verdict["graded"]) == (
        "adder",
        True,
        4,
        4,
    )
    number, gate = _label(home) or (None, None)
    assert number == second and gate is not None and gate.models == ("adder",)

    # The gate is stored with the label: moving it back to v1 is refused without flags.
    back = cli("label", "Sums", str(first), "production", home=home)
    assert back.returncode == 1 and f'Label "production" stays on v{second}' in back.stderr
    assert (_label(home) or (None,))[0] == second


def _evaluated(done: subprocess.CompletedProcess[str]) -> int:
    """The version number ``promptstudio eval`` stored its evaluation under."""
    assert done.returncode == 0, done.stderr
    found = re.search(r"stored as evaluation \d+ of Sums v(\d+)", done.stderr)
    assert found, done.stderr
    return int(found.group(1))


def test_bad_input_is_a_clear_message(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _seed(home)
    for args, expected in [
        (("Sums", "v9", "production"), "the prompt has no version 9"),
        (("Sums", "nine", "production"), "'nine' is not a version number"),
        (("Nope", "1", "production"), "no prompt named"),
        (("Sums", "1", "production", "--gate-pass-rate", "150%"), "not between 0 and 1"),
        (("Sums", "1", "production", "--models", "m"), "go with --gate-pass-rate"),
        (("Sums", "1", "  "), "A label"),
    ]:
        done = cli("label", *args, home=home)
        assert done.returncode in (1, 2), (args, done.stdout)
        assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    ungated = cli("label", "Sums", "1", "production", home=home)  # no gate: it just moves
    assert ungated.returncode == 0 and 'Label "production" is on v1' in ungated.stdout
