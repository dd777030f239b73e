"""Run every benchmark and put the results into docs/PERFORMANCE.md, with machine and date.

    python3 dev.py bench            # all of them (about 10 minutes on 2 cores)
    python3 dev.py bench --quick    # fewer repetitions and a 20k-version history

Each benchmark runs in its own process, one after the other (they would disturb each
other's timings). Their output replaces the "Latest run of every benchmark" section of
docs/PERFORMANCE.md; the sections above it explain the numbers and what was done.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"


def suite(quick: bool) -> list[tuple[str, list[str]]]:
    board = ["bench_board.py", "--stall-only"] if quick else ["bench_board.py"]
    history = ["bench_history.py"]
    if quick:
        history += ["--versions", "20000", "--big", "5000", "--runs", "4000"]
    return [
        ("Start-up and idle memory", ["bench_startup.py", "--runs", "3" if quick else "7"]),
        ("Keystroke to highlight", ["bench_editor.py", "--keys", "100" if quick else "300"]),
        ("Streaming engine vs the raw SDK", ["bench_engine.py", "--reps", "3" if quick else "9"]),
        ("Run board: 8 columns streaming", board),
        ("History at scale", history),
        ("Ctrl+C on a big evaluation", ["bench_eval_stop.py"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    sections = [
        f"Run with `python3 dev.py bench{' --quick' if args.quick else ''}` on "
        f"{time.strftime('%Y-%m-%d')}: {platform.node()}, {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}.",
    ]
    failed = 0
    for title, command in suite(args.quick):
        print(f"== {title}: {' '.join(command)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / command[0]), *command[1:]],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        took = time.perf_counter() - started
        output = done.stdout.strip()
        print(output, flush=True)
        if done.returncode != 0:
            failed += 1
            output += f"\n\n(failed with exit code {done.returncode}: {done.stderr.strip()[-500:]})"
        sections.append(f"### {title}\n\n`bench/{' '.join(command)}`, {took:.0f} s\n\n{output}")
    if not args.no_write:
        text = DOC.read_text(encoding="utf-8")
        block = f"{START}\n" + "\n\n".join(sections) + f"\n{END}"
        if START in text and END in text:
            text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip("\n") + "\n\n## Latest run of every benchmark\n\n" + block + "\n"
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
