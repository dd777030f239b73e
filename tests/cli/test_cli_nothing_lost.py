"""The installed CLI keeps what it received (issue 14, points 5 and 6).

A run killed mid-stream leaves its partial answer in the library, marked interrupted at
the next open; a full disk or a read-only library is a clear message and a non-zero exit,
never a traceback, with nothing else damaged.

Tests run as root, where chmod does not stop writes. The CLI process is therefore given a
``sitecustomize`` that runs one PRAGMA on every connection to the library:
``query_only`` refuses writes exactly as a read-only file does (SQLITE_READONLY), and
``max_page_count`` stops the file growing exactly as a full disk does (SQLITE_FULL).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from promptstudio.storage import Database, library
from tests.cli.test_cli import PROMPTSTUDIO, cli
from tests.fake_llm import FakeLLM, Reply

SITECUSTOMIZE = """
import os, sqlite3
_connect = sqlite3.connect
def connect(database, *args, **kwargs):
    conn = _connect(database, *args, **kwargs)
    if str(database).endswith("library.sqlite3"):
        conn.execute(os.environ["PROMPTSTUDIO_TEST_PRAGMA"])
    return conn
sqlite3.connect = connect
"""


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def kill_once(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    """SIGKILL ``process`` once ``ready()`` holds (it must still be running then)."""
    try:
        wait_until(lambda: ready() or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(home)}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
        env.pop(name, None)
    return env


def _streamed_text(home: Path) -> str:
    """The longest answer text in the library so far (read-only, beside the writer)."""
    path = home / "library.sqlite3"
    if not path.exists():
        return ""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute("SELECT text FROM responses ORDER BY length(text) DESC").fetchone()
            return str(row[0]) if row else ""
        finally:
            conn.close()
    except sqlite3.Error:
        return ""


def test_a_killed_run_keeps_what_had_arrived_marked_interrupted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    template = tmp_path / "count.prompt"
    template.write_text("user:\nCount slowly.\n", encoding="utf-8")
    words = [f"w{n} " for n in range(400)]
    with FakeLLM() as server:
        server.script(Reply(text="".join(words), tokens_per_second=40))
        process = subprocess.Popen(
            [*PROMPTSTUDIO, "run", str(template), "--base-url", server.base_url,
             "--model", "slow"],
            env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        # Some chunks arrived and a checkpoint holds at least two of them, then: kill.
        kill_once(process, lambda: _streamed_text(home).count(" ") >= 2)
    assert process.returncode == -signal.SIGKILL

    with Database(home / "library.sqlite3") as db:
        assert db.interrupted == 1
        prompt = next(p for p in db.call(library.list_prompts) if p.name == "count")
        version = db.call(library.latest_version, prompt.id)
        assert version is not None
        [entry] = db.call(library.runs_for_version, version.id)
        [response] = entry.responses
    assert response.status == "interrupted"
    assert response.model == "slow"
    assert response.text and "".join(words).startswith(response.text)
    assert len(response.text) < len("".join(words))


@pytest.mark.parametrize(
    ("pragma", "why"),
    [("PRAGMA query_only = 1", "read-only"), ("PRAGMA max_page_count = 1", "disk is full")],
)
def test_a_read_only_or_full_library_is_a_message_not_a_traceback(
    tmp_path: Path, pragma: str, why: str
) -> None:
    home = tmp_path / "home"
    template = tmp_path / "long.prompt"
    template.write_text("user:\nWrite at length.\n", encoding="utf-8")
    long_answer = "All work and no play makes a long answer. " * 600  # 25 kB: new pages
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    with FakeLLM() as server:
        server.script(Reply(text="first"))
        args = ("run", str(template), "--base-url", server.base_url, "--model", "m")
        first = cli(*args, home=home)  # a healthy library with one run in it
        assert first.returncode == 0, first.stderr
        server.script(Reply(text=long_answer))
        env = {**_env(home), "PYTHONPATH": str(hook), "PROMPTSTUDIO_TEST_PRAGMA": pragma}
        done = subprocess.run([*PROMPTSTUDIO, *args], env=env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        sent = len(server.requests)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("promptstudio: Could not store "), done.stderr
    assert why in last
    if why == "disk is full":  # the answer was streamed and printed, then not stored
        assert sent == 2
        assert done.stdout == long_answer + "\n"
        assert "The answer above is not (or only partly) in the library." in last
    else:  # nothing could be recorded: nothing is sent
        assert sent == 1
        assert done.stdout == ""
        assert last.endswith("Nothing else was changed. Nothing was sent.")
    with Database(home / "library.sqlite3") as db:  # nothing else damaged
        assert db.call(lambda conn: conn.execute("PRAGMA integrity_check").fetchall()) == [("ok",)]
        rows = db.call(lambda conn: conn.execute("SELECT text, status FROM responses").fetchall())
    assert rows[0] == ("first", "done")
    # What a checkpoint could still keep before the disk filled up stays, marked interrupted.
    for text, status in rows[1:]:
        assert long_answer.startswith(text) and status == "interrupted"


def test_a_killed_eval_keeps_every_finished_answer_and_the_rerun_reuses_them(
    tmp_path: Path,
) -> None:
    """``eval`` stores its grid at the end, but each finished answer goes into the
    library's answer cache as it arrives: after a kill nothing answered is asked again."""
    home = tmp_path / "home"
    sums = [(1, 2), (2, 2), (6, 7), (8, 9)]
    tests = "".join(
        f"  - vars: {{a: {a}, b: {b}}}\n    assert: [{{type: equals, value: '{a + b}'}}]\n"
        for a, b in sums
    )
    config = tmp_path / "sums.yaml"
    config.write_text(
        f"description: Sums\nprompts:\n  - 'What is {{{{ a }}}} + {{{{ b }}}}?'\ntests:\n{tests}",
        encoding="utf-8",
    )

    def cached() -> int:
        path = home / "library.sqlite3"
        if not path.exists():
            return 0
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
            try:
                return int(conn.execute("SELECT count(*) FROM response_cache").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            return 0

    def answer(slow_last: bool) -> Callable[[str, dict[str, object]], Reply]:
        def reply(model: str, body: dict[str, object]) -> Reply:
            text = str(body["messages"][-1]["content"])  # type: ignore[index]
            a, b = (int(n) for n in text.replace("?", "").split()[2::2])
            return Reply(text=str(a + b), first_token_delay=60 if slow_last and a == 8 else 0)

        return reply

    args = ["eval", str(config), "--model=m"]
    with FakeLLM() as server:
        server.respond(answer(slow_last=True))
        process = subprocess.Popen(
            [*PROMPTSTUDIO, *args, "--base-url", server.base_url],
            env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        kill_once(process, lambda: cached() == 3)
        asked = len(server.requests)
        server.respond(answer(slow_last=False))
        done = cli(*args, "--base-url", server.base_url, home=home)
        assert done.returncode == 0, done.stderr
        assert len(server.requests) == asked + 1  # only the unfinished case is asked again


def test_run_json_names_the_version_by_its_number_as_history_does(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for name in ("first", "second"):
        (tmp_path / f"{name}.prompt").write_text(f"user:\nSay {name}.\n", encoding="utf-8")
    with FakeLLM() as server:
        server.script(Reply(text="ok"))
        for name in ("first", "second"):
            done = cli("run", str(tmp_path / f"{name}.prompt"), "--base-url", server.base_url,
                       "--model", "m", "--json", home=home)  # fmt: skip
            assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["prompt"], summary["version"]) == ("second", 1)
    assert summary["version_id"] == 2  # the database id, named as an id
    found = cli("search", "Say second", "--json", home=home)
    assert [(hit["prompt"], hit["version"]) for hit in json.loads(found.stdout)] == [("second", 1)]


def test_eval_on_a_full_disk_says_so_once_and_exits_nonzero(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = tmp_path / "sums.yaml"
    config.write_text(
        "description: Sums\nprompts:\n  - 'What is {{ a }} + {{ b }}?'\ntests:\n"
        + "".join(f"  - vars: {{a: {a}, b: 1}}\n" for a in range(4)),
        encoding="utf-8",
    )
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    args = ("eval", str(config), "--model=m")
    with FakeLLM() as server:
        server.script(Reply(text="short"))
        first = cli(*args, "--base-url", server.base_url, home=home)
        assert first.returncode == 0, first.stderr
        server.script(Reply(text="A much longer answer this time. " * 700))  # 22 kB each
        env = {**_env(home), "PYTHONPATH": str(hook),
               "PROMPTSTUDIO_TEST_PRAGMA": "PRAGMA max_page_count = 1"}  # fmt: skip
        done = subprocess.run([*PROMPTSTUDIO, *args, "--fresh", "--base-url", server.base_url],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("could not keep an answer in the cache") <= 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("promptstudio: Could not store the evaluation "), done.stderr
    assert "disk is full" in last
