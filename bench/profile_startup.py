"""Where PromptStudio's start-up goes, up to the usable window (its title shows the last
prompt): imports per package and module (``-X importtime``), PySide6 enum classes created
and by whose code, and a cProfile of the whole start.

    .venv/bin/python bench/profile_startup.py [--top 20] [--platform offscreen] [--tree DIR]

One process per measurement, on a library that was opened and closed once (as
``bench_startup.py`` does); the bare PySide6 window's enum count is given for comparison.
Numbers vary with the machine's load: read the shares, not the milliseconds.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_startup import one_run

CHILD = r"""
import cProfile, enum, json, os, sys, time
kind, data_dir, profile_out = sys.argv[1], sys.argv[2], sys.argv[3]
created = []  # (PySide6 module.class, our module whose code asked for it, seconds)
original = enum.EnumType._create_

def recording(cls, class_name, *args, **kwargs):
    started = time.perf_counter()
    made = original(cls, class_name, *args, **kwargs)
    frame, ours = sys._getframe(1), "(PySide6 itself)"
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("promptstudio"):
            ours = name
            break
        frame = frame.f_back
    created.append((f"{kwargs.get('module') or ''}.{class_name}", ours,
                    time.perf_counter() - started))
    return made

enum.EnumType._create_ = recording
profiler = cProfile.Profile() if profile_out != "-" else None
if profiler:
    profiler.enable()
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

class Usable(QObject):
    def eventFilter(self, watched, event):
        if isinstance(watched, QMainWindow) and (
            (kind == "bare" and event.type() == QEvent.Type.Paint)
            or (event.type() == QEvent.Type.WindowTitleChange and "\u2014" in watched.windowTitle())
        ):
            if profiler:
                profiler.disable()
                profiler.dump_stats(profile_out)
            print(json.dumps(created), flush=True)
            os._exit(0)
        return False

app = QApplication(sys.argv[:1])
probe = Usable()
app.installEventFilter(probe)
if kind == "bare":
    window = QMainWindow()
    window.show()
    app.exec()
else:
    from promptstudio.cli import main
    main(["--data-dir", data_dir])
"""


def child(
    kind: str, data_dir: str, env: dict[str, str], *flags: str, profile: str = "-"
) -> tuple[list, str]:
    done = subprocess.run(
        [sys.executable, *flags, "-c", CHILD, kind, data_dir, profile],
        capture_output=True, text=True, env=env, cwd=data_dir, timeout=120,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def imports(stderr: str) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) from ``-X importtime``."""
    found = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, total, name = line.removeprefix("import time:").split("|")
        found.append((name.strip(), int(own), int(total)))
    return found


def group(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "promptstudio":
        return (
            ".".join(parts[:3]) if parts[1:2] == ["ui"] and len(parts) > 3 else ".".join(parts[:2])
        )
    if parts[0] in ("shiboken6", "shibokensupport"):
        return "PySide6"
    return parts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--platform", default="offscreen")
    parser.add_argument("--tree", help="profile another source tree (PYTHONPATH)")
    args = parser.parse_args()
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    env |= {
        "QT_QPA_PLATFORM": args.platform,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    if args.tree:
        env["PYTHONPATH"] = args.tree
    with tempfile.TemporaryDirectory() as data_dir:
        one_run("app", data_dir, env, finish="close")  # the library, samples, saved state
        one_run("app", data_dir, env)  # byte code written
        bare_enums, _ = child("bare", data_dir, env)
        enums, stderr = child("app", data_dir, env, "-X", "importtime")
        profile = str(Path(data_dir) / "start.prof")
        child("app", data_dir, env, profile=profile)
        stats = pstats.Stats(profile)

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    rows = imports(stderr)
    total = sum(own for _, own, _ in rows)
    by_group: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for name, own, _ in rows:
        by_group[group(name)] += own
        count[group(name)] += 1
    print(f"Imports up to the usable window: {len(rows)} modules, {total / 1000:.0f} ms "
          "(self time, -X importtime)\n")  # fmt: skip
    print("| package | modules | self ms | share |\n|---|---:|---:|---:|")
    for name, own in by_group.most_common(args.top):
        print(f"| {name} | {count[name]} | {own / 1000:.1f} | {own / total:.0%} |")
    ours = sorted((r for r in rows if r[0].startswith("promptstudio")), key=lambda r: -r[1])
    print("\nOur slowest modules (self ms): " + ", ".join(
        f"{name} {own / 1000:.1f}" for name, own, _ in ours[: args.top]))  # fmt: skip

    print(
        f"\nPySide6 enum classes created: {len(enums)} by the usable window "
        f"({sum(t for *_, t in enums) * 1000:.0f} ms), {len(bare_enums)} by the bare window"
    )
    by_caller: collections.Counter[str] = collections.Counter()
    cost: collections.Counter[str] = collections.Counter()
    for _, caller, took in enums:
        by_caller[caller] += 1
        cost[caller] += took
    print("\n| first used by | enum classes | ms |\n|---|---:|---:|")
    for caller, number in by_caller.most_common(args.top):
        print(f"| {caller} | {number} | {cost[caller] * 1000:.1f} |")

    print("\ncProfile (cumulative s; the profiler roughly doubles Python's time):")
    wanted = ("feature_imported", "_create_", "get_code", "build", "set_configs",
              "open_library", "_load_version", "analyse", "update_key_status", "processEvents",
              "run_app")  # fmt: skip
    for (file, line, func), (_, _, _, cumulative, _) in sorted(
        stats.stats.items(),
        key=lambda item: -item[1][3],  # type: ignore[attr-defined]
    ):
        if func in wanted and ("promptstudio" in file or "shiboken" in file or "enum" in file
                               or "importlib" in file or func == "processEvents"):  # fmt: skip
            print(f"  {cumulative:6.3f}  {Path(file).name}:{line} {func}")


if __name__ == "__main__":
    main()
