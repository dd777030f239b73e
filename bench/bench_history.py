"""History at scale: seed a big library, then time the operations the UI waits on.

Run by hand (never in the test suite)::

    .venv/bin/python bench/bench_history.py                  # seed 100k versions, measure
    .venv/bin/python bench/bench_history.py --reuse DIR      # measure an existing seed

Seeds 100,000 versions over 200 prompts (one prompt holds 20,000) and 20,000 runs with one
to three responses each, through the real library functions (so the search triggers and
indexes do their real work), then reports p50/p95 of: saving a version, opening a prompt's
history, searching, saving a draft, and opening the ``Database`` (big vs empty library).
Results go to docs/PERFORMANCE.md, "History at scale".
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from promptstudio.storage import Database, library, transaction  # noqa: E402

RARE_WORD = "zeugmatic"  # planted in 5 versions and 3 responses
MEDIUM_WORD = "xylophone"  # planted in about 1% of versions, never in a current template
MODELS = ("gpt-4o-mini", "claude-haiku", "llama-3.1-8b")


def vocabulary(size: int = 5000) -> tuple[list[str], list[float]]:
    """Real English words with a Zipf-like weighting, taken from the stdlib's own text."""
    counts: collections.Counter[str] = collections.Counter()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.glob("*.py"))[:200]:
        text = path.read_text(encoding="utf-8", errors="replace")
        counts.update(re.findall(r"\b[a-z]{2,12}\b", text))
    words = [w for w, _ in counts.most_common(size) if w not in (RARE_WORD, MEDIUM_WORD)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return words, weights


class TextMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words, self.weights = vocabulary()

    def words_(self, n: int) -> list[str]:
        return self.rng.choices(self.words, self.weights, k=n)

    def template(self) -> list[str]:
        """A prompt of 60 to 600 words (most near 180): about 1.2 kB of text."""
        size = int(min(600, max(60, self.rng.lognormvariate(5.2, 0.5))))
        head = self.words_(size // 3)
        return ["system:", *head, "\nuser:", *self.words_(size - len(head)), "{{ input }}"]

    def edit(self, words: list[str], size: int) -> list[str]:
        """A small edit, as between two saves: change, insert or delete a few words.

        Inserts and deletes balance around the prompt's size, so a prompt saved 20,000
        times stays a prompt and does not grow into a book.
        """
        out = list(words)
        for _ in range(self.rng.randint(1, 4)):
            i = self.rng.randrange(2, len(out) - 1)
            grow = 0.5 + (size - len(out)) / (2 * size)  # 0.5 at the target size
            action = self.rng.random()
            if action < 0.5:
                out[i] = self.words_(1)[0]
            elif self.rng.random() < grow:
                out.insert(i, self.words_(1)[0])
            elif len(out) > 10:
                del out[i]
        return out

    def response(self) -> str:
        return " ".join(self.words_(self.rng.randint(60, 220)))


def seed(path: Path, *, versions: int, prompts: int, big: int, runs: int, rng_seed: int) -> None:
    rng = random.Random(rng_seed)
    maker = TextMaker(rng)
    started = time.perf_counter()
    with Database(path) as db:

        def make_prompts(conn: sqlite3.Connection) -> list[int]:
            with transaction(conn):
                return [
                    library.create_prompt(
                        conn, f"Prompt {i:03d} {maker.words_(2)[0]}", f"F{i % 7}"
                    ).id
                    for i in range(prompts)
                ]

        ids = db.call(make_prompts)
        # The big prompt gets `big` versions; the others share the rest. Shuffled, so ids
        # of different prompts interleave as they do when someone works on many prompts.
        owners = [ids[0]] * big + [rng.choice(ids[1:]) for _ in range(versions - big)]
        rng.shuffle(owners)
        rare_at = set(rng.sample(range(versions), 5))
        texts: dict[int, list[str]] = {pid: maker.template() for pid in ids}
        sizes = {pid: len(words) for pid, words in texts.items()}
        version_ids: list[int] = []

        def save_batch(conn: sqlite3.Connection, batch: list[tuple[int, int]]) -> None:
            with transaction(conn):
                for n, pid in batch:
                    texts[pid] = maker.edit(texts[pid], sizes[pid])
                    words = texts[pid]
                    extra = []
                    if n in rare_at:
                        extra.append(RARE_WORD)
                    if rng.random() < 0.01:
                        extra.append(MEDIUM_WORD)
                    template = " ".join(words[:70] + extra + words[70:])
                    settings = {"columns": [{"model": rng.choice(MODELS), "temperature": 0.2}]}
                    kind: library.VersionKind = "run" if rng.random() < 0.3 else "save"
                    message = "" if rng.random() < 0.7 else " ".join(maker.words_(5))
                    version = library.save_version(
                        conn, pid, template, {"input": "text"}, settings, message=message, kind=kind
                    )
                    version_ids.append(version.id)

        batch_size = 2000
        numbered = list(enumerate(owners))
        for start in range(0, versions, batch_size):
            db.call(save_batch, numbered[start : start + batch_size])
            print(f"  versions {start + batch_size:>7,}  {time.perf_counter() - started:6.1f} s")

        rare_responses = set(rng.sample(range(runs), 3))

        def run_batch(conn: sqlite3.Connection, batch: range) -> None:
            with transaction(conn):
                for n in batch:
                    # Later versions are run more often than early ones.
                    vid = version_ids[int(len(version_ids) * rng.random() ** 0.5)]
                    run = library.record_run(conn, vid, {"input": "text"})
                    for model in rng.sample(MODELS, rng.randint(1, 3)):
                        text = maker.response()
                        if n in rare_responses:
                            text += " " + RARE_WORD
                        library.add_response(
                            conn,
                            run.id,
                            base_url="http://127.0.0.1:8089/v1",
                            model=model,
                            params={"temperature": 0.2},
                            messages=[{"role": "user", "content": text[:500]}],
                            text=text,
                            status="done" if rng.random() < 0.9 else "failed",
                            error=None,
                            finish_reason="stop",
                            ttft_ms=rng.uniform(100, 900),
                            total_ms=rng.uniform(800, 9000),
                            input_tokens=rng.randint(100, 900),
                            output_tokens=rng.randint(50, 400),
                            usage_estimated=False,
                            cost=rng.uniform(0.0001, 0.01),
                        )

        for start in range(0, runs, batch_size):
            db.call(run_batch, range(start, min(runs, start + batch_size)))
            print(f"  runs {start + batch_size:>7,}  {time.perf_counter() - started:6.1f} s")
        db.call(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    print(f"seeded in {time.perf_counter() - started:.0f} s")


# -- measuring ----------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(name: str, samples: list[float], target: float | None = None) -> None:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    verdict = ""
    if target is not None:
        verdict = " ok |" if p95 <= target else f" p95 over the {target:g} ms target |"
    print(f"| {name} | {p50:.2f} | {p95:.2f} | {len(samples)} |{verdict}")


def query(conn: sqlite3.Connection, sql: str, *params: object) -> Any:
    return conn.execute(sql, params).fetchone()[0]


def measure_open(path: Path) -> None:
    empty = path.parent / "empty" / "library.sqlite3"
    Database(empty).close()
    for label, target, check in (
        ("empty library", empty, "auto"),
        ("big library, auto check", path, "auto"),
        ("big library, full quick_check", path, "full"),
    ):
        samples = []
        for _ in range(3 if check == "full" else 15):
            start = time.perf_counter()
            db = Database(target, check=check)  # type: ignore[arg-type]
            samples.append((time.perf_counter() - start) * 1000)
            db.close()
        report(f"open `Database` ({label})", samples)


def measure_saves(db: Database, label: str, prompt_id: int) -> None:
    """Wall time of each call as the caller waits for it, and the owner thread's CPU time
    for it (user + system): on a busy machine the wall time's tail is mostly waiting for a
    core, while the CPU time shows the work the call itself did (the FTS5 merge tail)."""
    base = db.call(library.latest_version, prompt_id)
    assert base is not None
    counter = iter(range(10**9))
    cpu: list[float] = []

    def on_owner(fn: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        def job(conn: sqlite3.Connection) -> None:
            start = time.thread_time()
            fn(conn, *args, **kwargs)
            cpu.append((time.thread_time() - start) * 1000)

        db.call(job)

    def save() -> None:
        on_owner(library.save_version, prompt_id, f"{base.template} edit {next(counter)}", {}, {})

    def save_unchanged_run() -> None:
        on_owner(library.save_version, prompt_id, base.template, {}, {}, kind="run")

    def draft() -> None:
        on_owner(library.save_draft, prompt_id, f"{base.template} typing {next(counter)}", {}, {})

    for name, fn in (
        ("save a version", save),
        ("save for a run, content unchanged", save_unchanged_run),
        ("autosave a draft", draft),
    ):
        cpu.clear()
        report(f"{name} ({label})", timed(fn, 300), 2)
        report(f"{name} ({label}), owner-thread CPU", list(cpu), 2)
    # As a person saves: never 300 in a second, so the idle time between saves is there
    # for the search-index merges (storage.search_upkeep); 150 ms apart already does it.
    cpu.clear()
    walls = []
    for _ in range(100):
        time.sleep(0.15)
        walls += timed(save, 1)
    report(f"save a version, 150 ms apart ({label})", walls, 2)
    report(f"save a version, 150 ms apart ({label}), owner-thread CPU", list(cpu), 2)


def two_biggest_prompts(db: Database) -> tuple[int, int]:
    """The prompt with the most versions, and the next one (an ordinary prompt)."""
    rows = db.call(
        lambda c: c.execute(
            "SELECT prompt_id FROM versions GROUP BY prompt_id ORDER BY count(*) DESC LIMIT 2"
        ).fetchall()
    )
    return rows[0][0], rows[1][0]


def measure_saves_on_copy(seeded: Path) -> int:
    """Only the saves, on a fresh copy of a seed (saves add versions: the seed stays as is).

    Before the clock starts, one idle round of the background connection has merged what
    the seeding left (as after any two seconds of idle time in the app).
    """
    folder = Path(tempfile.mkdtemp(prefix="promptstudio-bench-saves-"))
    path = folder / seeded.name
    try:
        shutil.copy(seeded, path)
        os.sync()
        print(f"saves on a copy of {seeded}, load average {os.getloadavg()[0]:.1f}\n")
        print("| operation | p50 ms | p95 ms | n | target |")
        print("|---|---|---|---|---|")
        with Database(path) as db:
            time.sleep(2.5)
            big_id, small_id = two_biggest_prompts(db)
            measure_saves(db, "prompt with 20,000 versions", big_id)
            measure_saves(db, "ordinary prompt", small_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def measure_history(db: Database, big_id: int, small_id: int) -> None:
    for label, pid in (("big prompt", big_id), ("ordinary prompt", small_id)):

        def page(pid: int = pid) -> None:
            db.call(library.version_history, pid)

        report(f"history, first page of 200 ({label})", timed(page, 50), 50)
    depth = min(10_000, db.call(library.count_versions, big_id) // 2)  # --big may be small
    middle = db.call(
        query,
        "SELECT id FROM versions WHERE prompt_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
        big_id,
        depth,
    )
    report(
        f"history, a page {depth:,} versions deep",
        timed(lambda: db.call(library.version_history, big_id, before_id=middle), 50),
        50,
    )
    busiest = db.call(
        query, "SELECT version_id FROM runs GROUP BY version_id ORDER BY count(*) DESC LIMIT 1"
    )
    report(
        "runs of a version, with responses",
        timed(lambda: db.call(library.runs_for_version, busiest), 50),
        50,
    )


def measure_search(db: Database) -> None:
    queries = {
        "the": "very common word",
        "return": "common word",
        MEDIUM_WORD: "in 1% of versions, mostly old ones",
        RARE_WORD: "rare word",
        "Prompt 01": "name prefix + a 2-letter term",
        "py": "two letters (LIKE fallback)",
        "none of these": "three words, few matches",
        "zzqqxx": "no match",
    }
    for text, what in queries.items():
        hits = len(db.call(library.search, text))

        def run(text: str = text) -> None:
            db.call(library.search, text)

        report(f"search `{text}`: {what}, {hits} hits", timed(run, 30), 20)

    def responses_only() -> None:
        db.call(library.search, "the", kinds={"response"})

    report("search `the` in responses only", timed(responses_only, 30), 20)


def measure_backup(db: Database, path: Path) -> None:
    """The backup's duration, and how long owner-thread calls wait meanwhile."""
    waits: list[float] = []
    done = threading.Event()

    def keep_calling() -> None:
        while not done.is_set():
            start = time.perf_counter()
            db.call(library.count_prompts)
            waits.append((time.perf_counter() - start) * 1000)
            time.sleep(0.01)

    caller = threading.Thread(target=keep_calling)
    caller.start()
    start = time.perf_counter()
    made = db.backup_if_due(max_age=timedelta(0), keep=2)
    took = (time.perf_counter() - start) * 1000
    done.set()
    caller.join()
    assert made is not None and made.parent == path.parent / "backups"
    print(f"| backup: copy + integrity_check of the copy | {took:.0f} | | 1 |")
    report("a call on the owner thread while the backup runs", waits)

    def check(pragma: str) -> None:
        conn = sqlite3.connect(path)
        assert conn.execute(f"PRAGMA {pragma}").fetchone()[0] == "ok"
        conn.close()

    report("PRAGMA quick_check, big library", timed(lambda: check("quick_check"), 3))
    report("PRAGMA integrity_check, big library", timed(lambda: check("integrity_check"), 1))


def measure(path: Path) -> None:
    os.sync()  # the seed or a copy of it must not be written back while we measure
    size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    uname = platform.uname()
    print(f"\nlibrary: {path} ({size_mb:,.0f} MB), {time.strftime('%Y-%m-%d')}")
    print(
        f"machine: {os.cpu_count()} cores, {uname.system} {uname.release} {uname.machine}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| operation | p50 ms | p95 ms | n | target |")
    print("|---|---|---|---|---|")
    measure_open(path)
    with Database(path) as db:
        big_id, small_id = two_biggest_prompts(db)
        measure_saves(db, "prompt with 20,000 versions", big_id)
        measure_saves(db, "ordinary prompt", small_id)
        measure_history(db, big_id, small_id)
        measure_search(db)
        measure_backup(db, path)


def measure_recovery(path: Path) -> None:
    """Damage a copy of the library in the middle and time the open that salvages it."""
    copy = path.parent / "damaged" / path.name
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(path, copy)
    size = copy.stat().st_size
    with open(copy, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(random.Random(1).randbytes(3 * 4096))
    os.sync()
    start = time.perf_counter()
    with Database(copy, check="full") as db:
        took = time.perf_counter() - start
        assert db.recovery is not None
        print(f"\nrecovery of a {size / 1e6:,.0f} MB library with 3 damaged pages: {took:.1f} s")
        for table in db.recovery.tables:
            print(f"  {table}")
    start = time.perf_counter()
    Database(copy).close()
    print(f"  reopening the recovered file: {(time.perf_counter() - start) * 1000:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--reuse", type=Path, help="a directory seeded by an earlier run")
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--big", type=int, default=20_000, help="versions of the biggest prompt")
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--recovery", action="store_true", help="also time a recovery")
    parser.add_argument(
        "--saves-only", action="store_true", help="time only the saves (on a copy of --reuse)"
    )
    args = parser.parse_args()
    if args.reuse and args.saves_only:
        return measure_saves_on_copy(args.reuse / "library.sqlite3")
    if args.reuse:
        path = args.reuse / "library.sqlite3"
    else:
        folder = Path(tempfile.mkdtemp(prefix="promptstudio-bench-"))
        path = folder / "library.sqlite3"
        print(f"seeding {path}")
        seed(path, versions=args.versions, prompts=args.prompts, big=args.big, runs=args.runs,
             rng_seed=args.seed)  # fmt: skip
    measure(path)
    if args.recovery:
        measure_recovery(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
