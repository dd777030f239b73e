"""Start-up time and idle memory: PromptStudio's main window against a bare PySide6 window.

    .venv/bin/python bench/bench_startup.py [--runs 5] [--platform both|xcb|offscreen]
        [--other DIR]

Every run is a fresh process, alternating bare and PromptStudio so both see the same
machine state (the load of other jobs changes by the second on a shared machine, so only
interleaved ratios compare). Three moments are taken by this parent process from spawning
the child to the line the child prints at each:

* **first paint**: the first paint event of the main window;
* **usable window**: PromptStudio's title shows the last prompt, i.e. the library is
  loaded and that prompt is open in the editor (the bare window is usable when painted);
* **idle memory**: the child's resident set size 3 s after it was usable (the SDK preload
  that follows the library is in it).

Both children make a ``QApplication`` and their window; PromptStudio goes through its real
entry point (``promptstudio.cli.main``) on a library that already exists and was closed
normally once (a first launch also installs the samples and probes for local servers).
``--platform both`` (the default) measures under a real X server (an ``Xvfb`` this script
starts, when it is installed) and on Qt's offscreen platform. ``--other DIR`` adds a third
kind of run, PromptStudio from another source tree (``PYTHONPATH=DIR``), interleaved with
the others: a before/after comparison on the same machine state.

Python writes byte code for the children (``PYTHONDONTWRITEBYTECODE`` is dropped), as it
does for a user: without it every start compiles our ~200 modules again.

Targets (issue 21): usable window <= 1.3x the bare window, idle memory <= 1.5x, first
paint no worse.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDLE_S = 3.0

CHILD = r"""
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

kind, data_dir, finish = sys.argv[1], sys.argv[2], sys.argv[3]
IDLE_MS = int(float(sys.argv[4]) * 1000)

def rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

class Probe(QObject):
    painted = usable = False

    def eventFilter(self, watched, event):
        if isinstance(watched, QMainWindow):
            if not self.painted and event.type() == QEvent.Type.Paint:
                self.painted = True
                print("painted", flush=True)
                if kind == "bare":
                    self.became_usable(watched)
            elif (not self.usable and event.type() == QEvent.Type.WindowTitleChange
                    and "\u2014" in watched.windowTitle()):
                self.became_usable(watched)
        return False

    def became_usable(self, window):
        self.usable = True
        print("usable", flush=True)
        QTimer.singleShot(IDLE_MS, lambda: self.idle(window))

    def idle(self, window):
        print(f"rss {rss_kb()}", flush=True)
        if finish == "close":  # closed as a user would: the window keeps its state
            window.close()
        else:
            os._exit(0)

app = QApplication(sys.argv[:1])
probe = Probe()
app.installEventFilter(probe)
if kind == "bare":
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(1280, 800)
    window.show()
    app.exec()
else:
    from promptstudio.cli import main
    main(["--data-dir", data_dir])
"""

METRICS = ("painted", "usable", "rss")


def one_run(
    kind: str, data_dir: str, env: dict[str, str], *, finish: str = "exit"
) -> dict[str, float]:
    """ms to the first paint and to the usable window, and idle RSS in KiB, of a fresh
    process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "bare" if kind == "bare" else "app", data_dir, finish,
         str(IDLE_S)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        cwd=data_dir,  # not a source tree: `-c` puts the working directory first on sys.path
    )  # fmt: skip
    assert child.stdout is not None
    found: dict[str, float] = {}
    for expected in METRICS:
        line = child.stdout.readline().split()
        if not line or line[0] != expected:
            child.kill()
            raise SystemExit(f"{kind}: expected {expected!r}, got {line!r}")
        found[expected] = (
            int(line[1]) / 1024 if expected == "rss" else (time.perf_counter() - started) * 1000
        )
    child.wait(timeout=60)
    return found


@contextmanager
def x_server() -> Iterator[str | None]:
    """A display of an Xvfb started for the benchmark, or None without Xvfb."""
    if shutil.which("Xvfb") is None:
        yield None
        return
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        yield f":{number}" if number else None
    finally:
        server.terminate()
        server.wait(timeout=10)


def measure(platform_name: str, env: dict[str, str], runs: int, other: str | None) -> None:
    kinds = ["bare", "app"] + (["other"] if other else [])
    envs = {kind: env for kind in kinds}
    if other:
        envs["other"] = {**env, "PYTHONPATH": other}
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as data_dir:
        # First launch (library, samples, local-server probe), closed normally so the
        # window state is kept; then one warm-up of each kind (file cache, byte code).
        one_run("app", data_dir, envs["app"], finish="close")
        for kind in kinds:
            one_run(kind, data_dir, envs[kind])
        for number in range(runs):
            order = kinds if number % 2 == 0 else kinds[::-1]
            for kind in order:
                results[kind].append(one_run(kind, data_dir, envs[kind]))
            loads.append(os.getloadavg()[0])

    def median(kind: str, metric: str) -> float:
        return statistics.median(run[metric] for run in results[kind])

    def ratios(kind: str, metric: str) -> float:
        """The median of the per-round ratios to the bare window of the same round."""
        return statistics.median(
            mine[metric] / bare[metric]
            for mine, bare in zip(results[kind], results["bare"], strict=True)
        )

    print(
        f"QT_QPA_PLATFORM={platform_name}; {runs} rounds, each kind once a round, order "
        f"alternating; load average {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} "
        f"cores during the runs."
    )
    print()
    names = {"app": "PromptStudio", "other": f"PromptStudio from {other}"}
    header = "| | bare PySide6 window | " + " | ".join(names[k] for k in kinds[1:])
    print(header + " | target |")
    print("|---|---:|" + "---:|" * (len(kinds) - 1) + "---:|")
    rows = (
        ("process start → first paint", "painted", "ms", "no worse"),
        ("process start → usable window", "usable", "ms", "≤ 1.3×"),
        (f"idle memory (RSS, {IDLE_S:.0f} s after usable)", "rss", "MB", "≤ 1.5×"),
    )
    for label, metric, unit, target in rows:
        cells = [f"{median('bare', metric):.0f} {unit}"]
        for kind in kinds[1:]:
            cells.append(f"{median(kind, metric):.0f} {unit} ({ratios(kind, metric):.2f}×)")
        print(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    print()
    print("Medians; the ratio is the median of each round's ratio to that round's bare window.")
    if other:
        rounds = list(zip(results["app"], results["other"], strict=True))
        paired = ", ".join(
            f"{metric} {statistics.median(a[metric] / b[metric] for a, b in rounds):.2f}×"
            for metric in METRICS
        )
        print(f"PromptStudio / PromptStudio from {other}, median of the rounds: {paired}.")
    for kind in kinds:
        spans = ", ".join(
            f"{metric} {min(r[metric] for r in results[kind]):.0f}–"
            f"{max(r[metric] for r in results[kind]):.0f}"
            for metric in METRICS
        )
        print(f"Ranges, {names.get(kind, 'bare')}: {spans}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--platform", choices=("both", "xcb", "offscreen"), default="both")
    parser.add_argument("--other", help="another source tree to compare with (PYTHONPATH)")
    args = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env.pop("PYTHONPATH", None)  # the venv's editable install is the tree measured
    print(
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}."
    )
    if args.platform in ("both", "xcb"):
        with x_server() as display:
            print()
            if display is None:
                print("No Xvfb here: the real X server measurement is skipped.")
            else:
                measure("xcb", {**env, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display},
                        args.runs, args.other)  # fmt: skip
    if args.platform in ("both", "offscreen"):
        print()
        measure("offscreen", {**env, "QT_QPA_PLATFORM": "offscreen"}, args.runs, args.other)


if __name__ == "__main__":
    main()
