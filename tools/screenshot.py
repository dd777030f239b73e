"""Render the main window with the samples and three answered columns, for docs/.

    .venv/bin/python tools/screenshot.py WIDTH HEIGHT light|dark OUT.png [--xcb] [--fold] [--focus]
        [--tab=run|evaluate|history] [--graph] [--code]

--code gives the second column an answer with a fenced Python block (coloured by Pygments).

--graph runs a second version, labels both and shows History's version graph.

--focus puts the keyboard focus on the first answer, to show the focus frame.

With --xcb it runs on a real X server (e.g. under ``xvfb-run -s "-screen 0 1600x1000x24"``)
and takes the screen with ImageMagick's ``import``; otherwise it grabs the window offscreen.
The answers come from the test suite's fake server, each after a first-token delay, so the
figures the columns show are what such a server really took.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "--xcb" not in sys.argv:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication, QWidget

from promptstudio.credentials import KeyStore
from promptstudio.ui.app import open_library
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply

ANSWERS = {  # model: (first-token delay in s, answer)
    "llama3.2": (0.42, "Subject: Your order #4411\n\nHi Sam,\n\nThanks for reaching out. "
                 + "I checked the shipment and it left our warehouse yesterday; " * 8),
    "qwen2.5": (0.25, "Hello Sam! "
                + "Your parcel is on its way and should arrive by Friday. " * 10),
    "gemma3": (0.31, "Dear Sam,\n\nWe are sorry for the delay. "
               + "The carrier reports a short hold at the depot. " * 9),
}  # fmt: skip
CODE_ANSWER = (0.25, "Here is the check:\n\n```python\ndef shipped(order: dict) -> bool:\n"
               "    \"\"\"True once the carrier has the parcel.\"\"\"\n"
               "    return order.get(\"status\") in {\"shipped\", \"delivered\"}  # 2 states\n"
               "```\n\nCall it with the order you fetched.")  # fmt: skip


async def show_window(
    window: MainWindow,
    theme: str,
    size: tuple[int, int] | None = None,
    settings: dict[str, object] | None = None,
) -> None:
    """Show ``window`` in ``theme`` (with further ``settings``), at ``size``, with its
    library open."""
    changed: dict[str, object] = {"appearance.theme": theme, **(settings or {})}
    window.settings.update(changed)
    window.apply_settings(changed)
    if size is not None:
        window.resize(*size)
    window.show()
    window.start()
    await asyncio.sleep(1.5)  # the library opens and the SDKs load on the run worker


def save(widget: QWidget, out: str) -> None:
    """The picture: with --xcb the X screen (ImageMagick's ``import``), else ``widget``."""
    if "--xcb" in sys.argv:
        subprocess.run(["import", "-window", "root", out], check=True)
    else:
        widget.grab().save(out)


def run(render: Callable[[MainWindow], Awaitable[None]]) -> None:
    """``render`` a window over a new library in a temporary folder, on the qasync loop."""
    app = QApplication([])
    with TemporaryDirectory() as tmp:
        db = open_library(Path(tmp))
        window = MainWindow(db, KeyStore(), Path(tmp))
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(render(window))
        db.close()


async def render(window: MainWindow, width: int, height: int, theme: str, out: str) -> None:
    await show_window(window, theme, (width, height))
    server = FakeLLM()
    server.start()
    answers = {**ANSWERS, "qwen2.5": CODE_ANSWER} if "--code" in sys.argv else ANSWERS
    for model, (delay, text) in answers.items():
        server.script(Reply(text=text, first_token_delay=delay, tokens_per_second=120), model=model)
    board = window.run_board
    while len(board.columns) < len(ANSWERS):
        board.add_column()
    for column, model in zip(board.columns, ANSWERS, strict=True):
        column.set_target(server.base_url, model)
    if "--fold" in sys.argv:
        board.columns[1].set_folded(True)
    done = asyncio.Event()
    window.workspace.runFinished.connect(lambda _id: done.set())
    window.registry["run.run"].trigger()
    await asyncio.wait_for(done.wait(), 60)
    if "--graph" in sys.argv:  # a second version, labelled, and History's version graph
        await _second_version(window, done)
    for index, name in enumerate(("run", "evaluate", "history")):
        if f"--tab={name}" in sys.argv:  # the tab below shown (built on first use)
            window.bottom_tabs.setCurrentIndex(index)
    if "--focus" in sys.argv:
        window.activateWindow()
        board.columns[0].output.setFocus()
    await asyncio.sleep(0.5)
    save(window, out)
    server.stop()
    window.close()


async def _second_version(window: MainWindow, done: asyncio.Event) -> None:
    from promptstudio.storage import library

    done.clear()
    window.editor.appendPlainText("Answer with the label only.")
    window.registry["run.run"].trigger()
    await asyncio.wait_for(done.wait(), 60)
    db, prompt_id = window.workspace.db, window.workspace.session.prompt_id
    assert prompt_id is not None
    versions = await db.acall(library.list_versions, prompt_id)
    await db.acall(library.set_label, prompt_id, "production", versions[-1].id)
    await db.acall(library.set_label, prompt_id, "candidate", versions[0].id)
    window.bottom_tabs.setCurrentWidget(window.history)
    window.history.refresh()
    window.history.tabs.setCurrentWidget(window.history.graph)


def main() -> None:
    width, height, theme, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    run(lambda window: render(window, width, height, theme, out))


if __name__ == "__main__":
    main()
