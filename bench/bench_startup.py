"""Start-up time and idle memory: PromptStudio's main window against a bare PySide6 window.

    .venv/bin/python bench/bench_startup.py [--runs 10] [--platform offscreen]

Every run is a fresh process, alternating bare and PromptStudio so both see the same
machine state. The time is from spawning the process to the first paint of its main
window (what a user waits for), taken by this parent process when the child reports the
paint. Both children make a ``QApplication``, their window and show it; PromptStudio goes
through its real entry point (``promptstudio.cli.main``) on a library that already
exists (a first launch also installs the samples). Idle memory is the child's resident
set size 2 s after that paint, when PromptStudio has loaded its library.

Targets (issue 8): start-up <= 1.3x the bare window, idle memory <= 1.5x.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

def rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

class FirstPaint(QObject):
    done = False
    def eventFilter(self, watched, event):
        if (not self.done and event.type() == QEvent.Type.Paint
                and isinstance(watched, QMainWindow)):
            self.done = True
            print("painted", flush=True)
            QTimer.singleShot(2000, lambda: (print(f"rss {rss_kb()}", flush=True),
                                             os._exit(0)))
        return False

app = QApplication(sys.argv[:1])
probe = FirstPaint()
app.installEventFilter(probe)
if sys.argv[1] == "bare":
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(1280, 800)
    window.show()
    app.exec()
else:
    from promptstudio.cli import main
    main(["--data-dir", sys.argv[2]])
"""


def one_run(kind: str, data_dir: str, env: dict[str, str]) -> tuple[float, int]:
    """(ms to the first paint, idle RSS in KiB) for one fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, data_dir],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert child.stdout is not None
    line = child.stdout.readline()
    painted = (time.perf_counter() - started) * 1000
    if line.strip() != "painted":
        child.kill()
        raise SystemExit(f"{kind}: no paint reported ({line!r})")
    rss = int(child.stdout.readline().split()[1])
    child.wait(timeout=30)
    return painted, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": args.platform,
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}  # fmt: skip
    with tempfile.TemporaryDirectory() as data_dir:
        one_run("app", data_dir, env)  # first launch: creates the library and samples
        one_run("bare", data_dir, env)  # and warms the file cache for both
        times: dict[str, list[float]] = {"bare": [], "app": []}
        memory: dict[str, list[int]] = {"bare": [], "app": []}
        for _ in range(args.runs):
            for kind in ("bare", "app"):
                painted, rss = one_run(kind, data_dir, env)
                times[kind].append(painted)
                memory[kind].append(rss)
    bare_ms, app_ms = (statistics.median(times[k]) for k in ("bare", "app"))
    bare_mb, app_mb = (statistics.median(memory[k]) / 1024 for k in ("bare", "app"))
    print(f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python "
          f"{platform.python_version()}, QT_QPA_PLATFORM={args.platform}, "
          f"{time.strftime('%Y-%m-%d')}; median of {args.runs} runs each.")  # fmt: skip
    print()
    print("| | bare PySide6 window | PromptStudio | ratio | target |")
    print("|---|---:|---:|---:|---:|")
    print(f"| process start → first paint | {bare_ms:.0f} ms | {app_ms:.0f} ms | "
          f"{app_ms / bare_ms:.2f}× | ≤ 1.3× |")  # fmt: skip
    print(f"| idle memory (RSS, 2 s after) | {bare_mb:.0f} MB | {app_mb:.0f} MB | "
          f"{app_mb / bare_mb:.2f}× | ≤ 1.5× |")  # fmt: skip
    spread = {k: (min(v), max(v)) for k, v in times.items()}
    print()
    print(f"Ranges: bare {spread['bare'][0]:.0f}–{spread['bare'][1]:.0f} ms, "
          f"PromptStudio {spread['app'][0]:.0f}–{spread['app'][1]:.0f} ms.")  # fmt: skip


if __name__ == "__main__":
    main()
