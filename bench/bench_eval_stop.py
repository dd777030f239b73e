"""Ctrl+C on a big ``promptstudio eval``: how soon it starts answering and how soon it stops.

    .venv/bin/python bench/bench_eval_stop.py [--cases 30000 131000]

For each size, a case file of that many rows runs on one model of the fake server (a
local server: one request at a time) through the installed entry point. Once 20 answers
have arrived the parent sends SIGINT and takes the time until the process has exited
(the evaluation is stored and its summary printed by then). Peak memory is the child's
maximum resident set size.

Targets (issue 14, point 12): a stop within a second or two at 30k and 131k cases.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_llm import FakeLLM, Reply  # noqa: E402

PROMPTSTUDIO = str(Path(sys.executable).with_name("promptstudio"))


def measure(cases: int, folder: Path) -> tuple[float, float, float, int]:
    """(seconds to 20 answers, seconds from SIGINT to exit, peak MB, exit code)."""
    prompt = folder / "echo.prompt"
    prompt.write_text("user:\nSay {{ n }}\n", encoding="utf-8")
    table = folder / f"cases-{cases}.csv"
    table.write_text("n\n" + "".join(f"{n}\n" for n in range(cases)), encoding="utf-8")
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(folder / f"home-{cases}"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}  # fmt: skip
    with FakeLLM() as server:
        server.script(Reply(text="ok"))
        started = time.monotonic()
        process = subprocess.Popen(
            [PROMPTSTUDIO, "eval", str(prompt), "--cases", str(table), "--base-url",
             server.base_url, "--model", "m"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        while len(server.chat_requests()) < 20:
            time.sleep(0.01)
        answering = time.monotonic() - started
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, status, usage = os.wait4(process.pid, 0)
        stopping = time.monotonic() - interrupted
    return answering, stopping, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[30_000, 131_000])
    args = parser.parse_args()
    print("| cases | to 20 answers | SIGINT to exit | peak memory | exit |")
    print("|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for cases in args.cases:
            answering, stopping, peak, code = measure(cases, Path(folder))
            print(f"| {cases:,} | {answering:.1f} s | {stopping:.2f} s | {peak:.0f} MB | {code} |")
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
