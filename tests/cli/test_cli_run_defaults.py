"""``promptstudio run`` builds requests as the app does: settings.json's run defaults fill what
neither the flags nor the file set, and its timeouts apply unless ``--timeout`` is given."""

from __future__ import annotations

import json
from pathlib import Path

from promptstudio.paths import data_dir
from promptstudio.settings.store import SettingsStore
from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply


def _settings(home: Path) -> None:
    SettingsStore(data_dir(home)).update(
        {"run.temperature": 0.3, "run.max_tokens": 77, "timeouts.first_token": 30}
    )


def test_flags_win_over_the_settings_run_defaults(fake_llm: FakeLLM, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _settings(home)
    template = tmp_path / "ask.txt"
    template.write_text("Hello?", encoding="utf-8")
    done = cli("run", str(template), "--base-url", fake_llm.base_url, "--model", "fake-model",
               "--temperature", "0.9", home=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = fake_llm.chat_requests()[-1].json
    assert body["temperature"] == 0.9
    assert (body.get("max_tokens") or body.get("max_completion_tokens")) == 77


def test_timeout_flag_wins_over_the_settings_first_token_timeout(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _settings(home)  # 30 s to the first token
    fake_llm.script(Reply(text="late", first_token_delay=20))
    template = tmp_path / "ask.txt"
    template.write_text("Hello?", encoding="utf-8")
    done = cli("run", str(template), "--base-url", fake_llm.base_url, "--model", "fake-model",
               "--timeout", "1", "--json", home=home)  # fmt: skip
    assert done.returncode != 0
    summary = json.loads(done.stdout)
    assert "within 1 s" in json.dumps(summary)


def test_api_flag_chooses_the_api_the_request_goes_over(fake_llm: FakeLLM, tmp_path: Path) -> None:
    template = tmp_path / "ask.txt"
    template.write_text("Hello?", encoding="utf-8")
    home = tmp_path / "home"
    run = ["run", str(template), "--base-url", fake_llm.base_url, "--model", "fake-model"]
    done = cli(*run, "--api", "responses", home=home)
    assert done.returncode == 0, done.stderr
    assert [r.json["model"] for r in fake_llm.responses_requests()] == ["fake-model"]
    assert not fake_llm.chat_requests()
    refused = cli(*run, "--api", "messages", home=home)
    assert refused.returncode == 2 and "invalid choice: 'messages'" in refused.stderr


def test_a_columns_samples_run_as_in_the_window(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script(Reply(text="one answer"))
    home = tmp_path / "home"
    doc = {
        "format": "promptstudio.prompt",
        "format_version": 1,
        "name": "twice",
        "template": "user:\nHello?",
        "columns": [
            {"base_url": fake_llm.base_url, "model": "m", "samples": 2, "api": "responses"}
        ],
    }
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    done = cli("run", str(path), "--json", home=home)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)["answers"]
    assert [a["label"].rsplit(" ", 1)[1] for a in answers] == ["#1", "#2"]
    assert len(fake_llm.responses_requests()) == 2 and not fake_llm.chat_requests()
    flagged = cli("run", str(path), "--samples", "3", "--json", home=home)
    assert flagged.returncode == 0 and len(json.loads(flagged.stdout)["answers"]) == 3
    refused = cli("run", str(path), "--samples", "0", home=home)
    assert refused.returncode == 2 and "a whole number from 1 to 20" in refused.stderr
