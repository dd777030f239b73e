"""Bad command-line input gives one clear line and a usage exit code, never a traceback.

All through the installed entry point: argv as raw bytes (what a shell passes when the
text is not UTF-8), stdout closed before the command writes, numbers out of range.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from promptstudio.providers.param_rules import PARAM_RULES
from promptstudio.storage import Database, library
from tests.cli.test_cli import PROMPTSTUDIO
from tests.fake_llm import FakeLLM, Reply


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(home)}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return env


def _cli(*args: str | bytes, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PROMPTSTUDIO, *args], env=_env(home), capture_output=True,
                          text=True, errors="replace", timeout=120)  # fmt: skip


@pytest.fixture
def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "hello.prompt"
    path.write_text("user:\nSay hello to {{ who }}.\n", encoding="utf-8")
    return path


def _refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    for word in words:
        assert word in done.stderr


def test_a_var_that_is_not_utf8_is_refused(prompt_file: Path, isolated_home: Path) -> None:
    done = _cli(b"render", bytes(prompt_file), b"--var", b"who=caf\xe9", home=isolated_home)
    _refused(done, "--var", "not valid UTF-8")


def test_a_prompt_name_that_is_not_utf8_is_refused_before_anything_is_sent(
    prompt_file: Path, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    fake_llm.script(Reply(text="hello"))
    done = _cli(b"run", bytes(prompt_file), b"--var", b"who=Ada", b"--prompt", b"caf\xe9",
                b"--base-url", fake_llm.base_url.encode(), b"--model", b"m",
                home=isolated_home)  # fmt: skip
    _refused(done, "--prompt", "not valid UTF-8")
    assert fake_llm.requests == []
    assert not (isolated_home / "library.sqlite3").exists()


def test_a_file_name_that_is_not_utf8_still_works(tmp_path: Path, isolated_home: Path) -> None:
    path = bytes(tmp_path) + b"/caf\xe9.prompt"
    with open(path, "w", encoding="utf-8") as file:
        file.write("user:\nhi\n")
    done = _cli(b"render", path, home=isolated_home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"messages": [{"role": "user", "content": "hi"}]}


def test_a_var_nested_a_thousand_deep_is_refused(prompt_file: Path, isolated_home: Path) -> None:
    deep = "[" * 1000 + "]" * 1000
    done = _cli("render", str(prompt_file), "--var", f"who={deep}", home=isolated_home)
    _refused(done, "--var", "nested more than 100 levels")


@pytest.mark.parametrize("command", [["providers", "list"], ["render", "FILE"],
                                     ["history", "Nope"]])  # fmt: skip
def test_stdout_closed_early_ends_quietly(
    command: list[str], prompt_file: Path, isolated_home: Path
) -> None:
    args = [str(prompt_file) if arg == "FILE" else arg for arg in command]
    if command[0] == "render":
        args += ["--var", "who=Ada"]
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already gone: every write fails
    try:
        done = subprocess.run([*PROMPTSTUDIO, *args], env=_env(isolated_home), stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    if command[0] == "history":  # writes nothing to stdout: its own error, as usual
        assert done.returncode == 1 and "no prompt named" in done.stderr
    else:
        assert done.returncode == 141, done.stderr


BAD_NUMBERS = [
    (["run", "FILE"], "--timeout", "0"),
    (["run", "FILE"], "--timeout", "-1"),
    (["run", "FILE"], "--timeout", "nan"),
    (["run", "FILE"], "--timeout", "inf"),
    (["eval", "FILE"], "--timeout", "0"),
    (["run", "FILE"], "--temperature", "nan"),
    (["run", "FILE"], "--temperature", "-0.5"),
    (["eval", "FILE"], "--temperature", "3"),
    (["run", "FILE"], "--top-p", "1.5"),
    (["run", "FILE"], "--max-tokens", "0"),
    (["eval", "FILE"], "--max-tokens", "-3"),
    (["run", "FILE"], "--max-tokens", "1.5"),
    (["run", "FILE"], "--seed", "1e400"),
    (["eval", "FILE"], "--min-pass-rate", "nan"),
    (["history", "P"], "--limit", "0"),
    (["history", "P"], "--limit", "-1"),
    (["search", "word"], "--limit", "0"),
    (["export", "P"], "--column", "0"),
    (["export", "P"], "--version", "-1"),
]


@pytest.mark.parametrize(("command", "flag", "value"), BAD_NUMBERS)
def test_numbers_out_of_range_are_usage_errors(
    command: list[str], flag: str, value: str, prompt_file: Path, isolated_home: Path
) -> None:
    args = [str(prompt_file) if arg == "FILE" else arg for arg in command]
    done = _cli(*args, "--base-url", "http://127.0.0.1:9/v1", "--model", "m", flag, value,
                home=isolated_home) if command[0] in ("run", "eval") else _cli(
                *args, flag, value, home=isolated_home)  # fmt: skip
    _refused(done, f"argument {flag}", repr(value))
    assert not (isolated_home / "library.sqlite3").exists()


@pytest.mark.parametrize(("flag", "name"), [
    ("--temperature", "temperature"), ("--top-p", "top_p"), ("--max-tokens", "max_tokens"),
    ("--seed", "seed"),
])  # fmt: skip
def test_generation_flags_take_their_ranges_from_the_param_rules(
    flag: str, name: str, prompt_file: Path, isolated_home: Path
) -> None:
    """One table: a flag refuses what the run column's editors and the importers refuse, and
    its help and its message name the table's range."""
    rule = PARAM_RULES[name]
    low, high = rule.minimum, rule.maximum
    allowed = f"{low:g} to {high:g}" if rule.kind == "number" else f"{int(low)} to {int(high)}"
    helped = _cli("run", "--help", home=isolated_home)
    assert allowed in " ".join(helped.stdout.split()), helped.stdout
    step = 1 if rule.kind == "integer" else 0.25
    for bad in (low - step, high + step):
        value = str(int(bad)) if rule.kind == "integer" else str(bad)
        done = _cli("run", str(prompt_file), "--base-url", "http://127.0.0.1:9/v1",
                    "--model", "m", flag, value, home=isolated_home)  # fmt: skip
        _refused(done, f"argument {flag}", repr(value), str(int(high)))


def test_eval_sends_the_generation_settings_run_takes(
    prompt_file: Path, tmp_path: Path, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    fake_llm.script(Reply(text="hello"))
    cases = tmp_path / "cases.csv"
    cases.write_text("who,__expected\nAda,hello\nBob,hello\n", encoding="utf-8")
    settings = ["--max-tokens", "7", "--temperature", "0.3", "--top-p", "0.9", "--seed", "5",
                "--stop", "END"]  # fmt: skip
    done = _cli("eval", str(prompt_file), "--cases", str(cases), "--base-url",
                fake_llm.base_url, "--model", "m", *settings, home=isolated_home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    bodies = [r.json for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    assert len(bodies) == 2
    for body in bodies:
        assert body.get("max_tokens", body.get("max_completion_tokens")) == 7
        assert (body["temperature"], body["top_p"], body["seed"]) == (0.3, 0.9, 5)
        assert body["stop"] == ["END"]


@pytest.mark.parametrize(("megabytes", "reason"), [
    (5, "too large for a template (5,000,000 bytes; a template may have at most 1,000,000"),
    (2, "the template is 2,000,000 characters long; the limit is 1,000,000"),
])  # fmt: skip
def test_a_huge_template_is_refused_with_the_reason(
    megabytes: int, reason: str, tmp_path: Path, isolated_home: Path
) -> None:
    path = tmp_path / "huge.prompt"
    path.write_text("Hello {{ who }}\n" * (megabytes * 1_000_000 // 16), encoding="utf-8")
    done = _cli("render", str(path), "--var", "who=Ada", home=isolated_home)
    assert done.returncode == 1 and done.stdout == ""
    assert reason in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("template", ["", " \n\n", "{% if false %}Hello{% endif %}"])
def test_run_refuses_a_template_with_nothing_to_send(
    template: str, tmp_path: Path, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    path = tmp_path / "empty.prompt"
    path.write_text(template, encoding="utf-8")
    fake_llm.script(Reply(text="should never be asked"))
    done = _cli("run", str(path), "--base-url", fake_llm.base_url, "--model", "m",
                home=isolated_home)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{path}:1:1: nothing to send: the template renders to no messages" in done.stderr
    assert fake_llm.chat_requests() == []
    assert not (isolated_home / "library.sqlite3").exists()  # nothing stored


def _eval(
    tmp_path: Path, template: str, names: list[str], server: FakeLLM, home: Path, *more: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "greet.prompt"
    path.write_text(template, encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text("who\n" + "".join(f"{name}\n" for name in names), encoding="utf-8")
    return _cli("eval", str(path), "--cases", str(cases), "--base-url", server.base_url,
                "--model", "m", *more, home=home)  # fmt: skip


def test_eval_refuses_an_empty_template_before_storing_anything(
    tmp_path: Path, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    done = _eval(tmp_path, "  \n", ["Ada"], fake_llm, isolated_home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Nothing to send: the template is empty." in done.stderr
    assert fake_llm.chat_requests() == []
    with Database(isolated_home / "library.sqlite3") as db:
        assert db.call(library.list_prompts) == []


def test_eval_cases_that_render_nothing_fail_unsent(
    tmp_path: Path, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    fake_llm.script(Reply(text="hi"))
    template = "{% if who != 'Bob' %}Hello {{ who }}{% endif %}"
    done = _eval(tmp_path, template, ["Ada", "Bob"], fake_llm, isolated_home, "--json")
    assert done.returncode == 1, done.stderr
    [request] = fake_llm.chat_requests()
    assert request.json["messages"] == [{"role": "user", "content": "Hello Ada"}]
    failed = [row for row in json.loads(done.stdout)["cells"] if row["status"] == "failed"]
    assert len(failed) == 1 and "nothing to send" in failed[0]["error"]


def test_a_streamed_answer_to_a_closed_stdout_is_still_stored(
    prompt_file: Path, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    fake_llm.script(Reply(text="word " * 500, tokens_per_second=5000))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*PROMPTSTUDIO, "run", str(prompt_file), "--var", "who=Ada", "--base-url",
             fake_llm.base_url, "--model", "m"],
            env=_env(isolated_home), stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "failed" not in done.stderr
    with Database(isolated_home / "library.sqlite3") as db:
        [prompt] = db.call(library.list_prompts)
        [version] = db.call(library.list_versions, prompt.id)
        [run] = db.call(library.runs_for_version, version.id)
        assert [response.text for response in run.responses] == ["word " * 500]
