"""Run board under load: UI stalls while 8 columns stream, and memory for long answers.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_board.py [--stall-only]
        [--default-switch-interval]

0. Time to first token: the window's first run, three identical columns on a server that
   waits 400 ms before the first token (one request at a time, a local server's default).
   Target (issue 14): each TTFT within a few percent of 400 ms and of each other.
1. Stall: 8 columns each stream 5,000 tokens at 500 tokens/s from the fake server while a
   5 ms heartbeat timer records how late each tick is; the p99 lateness is the UI stall.
   Target: p99 <= 16 ms.
2. Memory: 8 columns each receive 100,000 tokens as fast as the server can send them;
   the process's resident memory before and after, and per column.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from promptstudio.credentials import KeyStore  # noqa: E402
from promptstudio.ui.app import open_library, prefer_the_gui_thread  # noqa: E402
from promptstudio.ui.board.run_column import ColumnConfig, ms_text  # noqa: E402
from promptstudio.ui.main_window import MainWindow  # noqa: E402

COLUMNS = 8
HEARTBEAT_MS = 5


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def thread_cpu_ms(name: str) -> float:
    """CPU time so far of this process's thread ``name`` (Linux; NaN elsewhere)."""
    import threading

    for thread in threading.enumerate():
        stat = Path(f"/proc/self/task/{thread.native_id}/stat")
        if thread.name == name and stat.exists():
            fields = stat.read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def counted(append: Callable[[str], None], writes: list[str]) -> Callable[[str], None]:
    """``append`` that also notes each text it writes."""

    def write(text: str) -> None:
        writes.append(text)
        append(text)

    return write


async def run_all(window: MainWindow) -> None:
    done = asyncio.Event()
    window.workspace.runFinished.connect(lambda _id: done.set())
    window.registry["run.run"].trigger()
    await asyncio.wait_for(done.wait(), 600)


SERVE = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fake_llm import FakeLLM, Reply
server = FakeLLM()
server.start()
text = " ".join({prefix!r} + str(i % {cycle}) for i in range({words}))
server.script(Reply(text=text, tokens_per_second={rate!r}, first_token_delay={delay!r}))
print(server.base_url, flush=True)
time.sleep(3600)
"""


def serve(
    words: int, rate: float | None, prefix: str = "w", cycle: int = 10**9, delay: float = 0.0
) -> tuple[subprocess.Popen[str], str]:
    """The fake server in its own process, as a real server would be; it answers with
    ``words`` words like ``w0 w1 …``."""
    code = SERVE.format(
        root=str(ROOT), words=words, rate=rate, prefix=prefix, cycle=cycle, delay=delay
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def main(window: MainWindow) -> None:
    window.show()
    window.start()
    await asyncio.sleep(1.0)
    board = window.run_board
    window.editor.setPlainText("Stream please")

    # 0. time to first token of the window's first run
    server, base_url = serve(20, None, delay=0.4)
    board.set_configs([ColumnConfig(base_url=base_url, model="same") for _ in range(3)])
    await run_all(window)
    ttfts = " / ".join(ms_text(c.result.ttft_ms if c.result else None) for c in board.columns)
    print(f"ttft: first run, 3 identical columns, server waits 400 ms: {ttfts}")
    server.kill()

    while len(board.columns) < COLUMNS:
        board.add_column()
    # 1. stalls at 8 x 500 tok/s; all at once (as a provider with "Requests at once" 8)
    window.workspace.limits.local = None
    server, base_url = serve(5000, 500)
    for number, column in enumerate(board.columns):
        column.set_target(base_url, f"model-{number}")
    await asyncio.sleep(0.3)
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    writes: list[str] = []  # text written into the columns' views: one per widget flush
    for column in board.columns:
        column.output.append_text = counted(column.output.append_text, writes)  # type: ignore[method-assign,assignment]
    heartbeat.start()
    started = time.perf_counter()
    background_before = thread_cpu_ms("promptstudio-db-checkpoint")
    await run_all(window)
    elapsed = time.perf_counter() - started
    background = thread_cpu_ms("promptstudio-db-checkpoint") - background_before
    heartbeat.stop()
    late = [max(0.0, (b - a) * 1000 - HEARTBEAT_MS) for a, b in itertools.pairwise(ticks)]
    flushes = len(writes)
    received = sum(len(c.output.toPlainText().split()) for c in board.columns)
    print(f"stream: {COLUMNS} columns x 5000 tokens at 500 tok/s in {elapsed:.1f} s; "
          f"{received} tokens shown, {flushes} widget flushes")  # fmt: skip
    print(f"stall: heartbeat lateness p50 {percentile(late, 0.5):.2f} ms, "
          f"p99 {percentile(late, 0.99):.2f} ms, max {max(late):.2f} ms "
          f"over {len(late)} ticks")  # fmt: skip
    print(f"library upkeep thread (search-index merges, WAL checkpoints) while streaming: "
          f"{background:.0f} ms CPU; load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    server.kill()
    if "--stall-only" in sys.argv:
        window.close()
        return

    # 2. memory with 8 x 100k tokens
    server, base_url = serve(100_000, None, prefix="t", cycle=1000)
    for column in board.columns:
        column.set_target(base_url, column.model.text())
    before = rss_mb()
    started = time.perf_counter()
    await run_all(window)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.5)
    after = rss_mb()
    chars = sum(len(c.output.toPlainText()) for c in board.columns)
    print(f"memory: {COLUMNS} x 100,000 tokens ({chars / 1e6:.1f} M characters) in "
          f"{elapsed:.1f} s; RSS {before:.0f} MB -> {after:.0f} MB "
          f"(+{(after - before) / COLUMNS:.1f} MB a column)")  # fmt: skip
    server.kill()
    window.close()


if __name__ == "__main__":
    print(f"{platform.node()} · {os.cpu_count()} cores · {platform.platform()} · "
          f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d')}")  # fmt: skip
    if "--default-switch-interval" not in sys.argv:
        prefer_the_gui_thread()  # as the app does
    print(f"GIL switch interval: {sys.getswitchinterval() * 1000:g} ms")
    app = QApplication([])
    with TemporaryDirectory() as tmp:
        db = open_library(Path(tmp))
        main_window = MainWindow(db, KeyStore(), Path(tmp))
        main_window.resize(1600, 900)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(main(main_window))
        db.close()
