"""``promptstudio run``/``eval`` in a fresh process: honest timings, queued local requests,
and what stderr says while it waits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply
from tests.runs.test_timing_and_queue import DELAY, assert_ttfts_near


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.prompt"
    path.write_text("user:\nSay hello to {{ name }}\n", encoding="utf-8")
    return path


def three_models(server: FakeLLM) -> list[str]:
    return ["--base-url", server.base_url, "--model", "a", "--model", "b", "--model", "c"]


def test_first_run_ttfts_are_the_servers_delay(hello: Path, tmp_path: Path) -> None:
    """A fresh process has not imported the SDK yet: none of that is counted."""
    with FakeLLM() as server:
        server.script(Reply(text="hello there", first_token_delay=DELAY))
        done = cli("run", str(hello), "--var", "name=Ada", *three_models(server), "--json",
                   home=tmp_path / "home")  # fmt: skip
        assert done.returncode == 0, done.stderr
        single = cli("run", str(hello), "--var", "name=Ada", "--base-url", server.base_url,
                     "--model", "a", "--json", home=tmp_path / "home")  # fmt: skip
    answers = json.loads(done.stdout)["answers"]
    assert [a["status"] for a in answers] == ["done"] * 3
    assert_ttfts_near([a["ttft_ms"] for a in answers], DELAY * 1000)
    assert_ttfts_near([json.loads(single.stdout)["ttft_ms"]], DELAY * 1000)


def test_eval_latencies_are_the_servers_delay(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "prompts:\n  - 'Say {{ word }}'\ntests:\n  - vars: {word: hi}\n"
        "    assert: [{type: equals, value: hi}]\n",
        encoding="utf-8",
    )
    with FakeLLM() as server:
        server.script(Reply(text="hi", first_token_delay=DELAY))
        done = cli("eval", str(config), *three_models(server), "--json", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    cells = json.loads(done.stdout)["cells"]
    assert len(cells) == 3
    assert_ttfts_near([c["ttft_ms"] for c in cells], DELAY * 1000)
    assert_ttfts_near([c["latency_ms"] for c in cells], DELAY * 1000)


def test_status_once_and_each_retry_said(hello: Path, tmp_path: Path) -> None:
    with FakeLLM() as server:
        server.script(Reply(status=429, headers={"retry-after": "0.2"}), times=1)
        server.script(Reply(status=500, headers={"retry-after": "0.1"}), times=1)
        server.script(Reply(text="Hello Ada."))
        done = cli("run", str(hello), "--var", "name=Ada", "--base-url", server.base_url,
                   "--model", "a", home=tmp_path / "home")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello Ada.\n"
    lines = done.stderr.splitlines()
    assert [line for line in lines if "retrying" in line] == [
        "  a: rate limited (429); retrying in 0.2 s (attempt 1 of 2)",
        "  a: server error (500); retrying in 0.1 s (attempt 2 of 2)",
    ]
    status = [line for line in lines if "TTFT" in line]
    assert len(status) == 1 and status[0].startswith("a: done · TTFT")


def test_several_models_print_one_status_line_each(hello: Path, tmp_path: Path) -> None:
    with FakeLLM() as server:
        done = cli("run", str(hello), "--var", "name=Ada", *three_models(server),
                   home=tmp_path / "home")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    status = sorted(line.split(":")[0].strip() for line in lines if "TTFT" in line)
    assert status == ["a", "b", "c"]


def test_several_models_on_an_interrupting_llama_cpp_server_queue(
    hello: Path, tmp_path: Path
) -> None:
    with FakeLLM(interrupt_requests=True) as server:
        server.script(Reply(text="a whole answer", first_token_delay=0.2))
        root = server.root_url
        done = cli("run", str(hello), "--var", "name=Ada", *three_models(server),
                   home=tmp_path / "home")  # fmt: skip
        assert server.interrupted == 0
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("a whole answer") == 3
    queued = [line for line in done.stderr.splitlines() if "queued" in line]
    assert len(queued) == 2 and all(root in line for line in queued)
