"""Storing a stopped evaluation: the part of a Ctrl+C that writes the library.

    .venv/bin/python bench/bench_eval_store.py [--cases 30000 131000] [--repeat 5]

For each size, an evaluation of that many cases on one model, stopped after 20 answers,
is stored with ``save_run`` (what ``promptstudio eval`` and the window do on a stop) in a
fresh library; the fastest and the median of the repeats are printed, and the stored run
is read back once to check it is whole. ``bench_eval_stop.py`` times the whole stop.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from promptstudio.evals.results import (  # noqa: E402
    CANCELLED,
    DONE,
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
)
from promptstudio.evals.store import load_run, save_run  # noqa: E402
from promptstudio.storage import Database, library  # noqa: E402


def stopped_run(cases: int) -> EvalRun:
    column = EvalColumn("c1", "m", "m", "http://127.0.0.1:8080/v1", {"temperature": 0.2})
    run = EvalRun(
        (column,),
        tuple(EvalCase(str(n), n, {"n": str(n)}, expected=str(n)) for n in range(cases)),
        status=CANCELLED,
    )
    for n in range(20):
        run.cells[(str(n), "c1")] = CellResult(str(n), "c1", DONE, text=str(n), latency_ms=9.0)
    run.cells[("20", "c1")] = CellResult("20", "c1", CANCELLED, error="Stopped.")
    return run


def measure(cases: int, repeat: int, folder: Path) -> list[float]:
    times = []
    with Database(folder / f"library-{cases}.sqlite3") as db:
        prompt = db.call(library.create_prompt, "bench")
        version = db.call(library.save_version, prompt.id, "user:\nSay {{ n }}", {}, {})
        for _ in range(repeat):
            run = stopped_run(cases)
            started = time.perf_counter()
            db.call(save_run, version.id, run)
            times.append(time.perf_counter() - started)
        back = db.call(load_run, run.id)
        assert back.cases == run.cases and back.cells == run.cells, "stored run is not whole"
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[30_000, 131_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| cases | fastest | median |")
    print("|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for cases in args.cases:
            times = measure(cases, args.repeat, Path(folder))
            print(f"| {cases:,} | {min(times):.2f} s | {statistics.median(times):.2f} s |")
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
