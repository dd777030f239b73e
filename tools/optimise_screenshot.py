"""Render the Optimise dialog after a real optimisation on the test suite's fake server.

    .venv/bin/python tools/optimise_screenshot.py light|dark OUT.png [--xcb]

The prompt adds two numbers; 16 cases check the sums. The fake "adder" gets the small sums
right only when told to think step by step, and the large ones only when told to check its
sum; the fake improver adds one such line per attempt. So round 1 finds half, round 2 all,
and round 3 brings no gain: the optimisation stops there. With --xcb it runs on a real X
server (``xvfb-run -a -s "-screen 0 1600x1000x24"``) and takes the screen with ``import``.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promptstudio.storage import library
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tools.screenshot import run, save, show_window

TEMPLATE = "user:\nWhat is {{ a }} + {{ b }}? Reply with the number."
LINES = {"1": "Think step by step.", "2": "Check your sum.", "3": "Be brief."}


def studio(model: str, body: dict[str, Any]) -> Reply | None:
    messages = body["messages"]
    text = "\n".join(str(m["content"]) for m in messages)
    found = re.search(r"<template>\n(.*?)\n</template>", text, re.DOTALL)
    if found is not None:
        attempt = re.search(r"This is attempt (\d+)", text)
        line = LINES[attempt.group(1) if attempt else "1"]
        critique = f"Added “{line}”."
        return Reply(text=f"{critique}\n<prompt>\n{found.group(1).rstrip()}\n{line}\n</prompt>")
    a, b = (int(n) for n in re.findall(r"\d+", text.split("What is", 1)[-1])[:2])
    right = ("step by step" in text) if a <= 8 else ("Check your sum" in text)
    return Reply(text=str(a + b if right else a + b + 1))


async def render(window: MainWindow, theme: str, out: str) -> None:
    await show_window(window, theme, settings={"prices.overrides": "adder: 3, 15"})
    server = FakeLLM(["adder", "improver"])
    server.start()
    server.respond(studio)
    db = window.workspace.db
    prompt = db.call(library.create_prompt, "Sums")
    db.call(library.save_version, prompt.id, TEMPLATE, {"a": "1", "b": "2"}, {})
    db.call(library.replace_cases, prompt.id, [
        {"vars": {"a": a, "b": 7}, "assert": [{"type": "equals", "value": str(a + 7)}]}
        for a in range(1, 17)
    ])  # fmt: skip
    window.library.refresh()
    window.workspace.open_prompt(prompt.id)
    await asyncio.sleep(1.0)
    board = window.run_board
    while len(board.columns) < 2:
        board.add_column()
    for column, model in zip(board.columns, ("adder", "improver"), strict=True):
        column.set_target(server.base_url, model)
    await asyncio.sleep(0.5)
    dialog = window.optimise.open()
    dialog.resize(980, 620)
    dialog.improver.setCurrentIndex(1)
    done = asyncio.Event()
    window.optimise.finished.connect(lambda _report: done.set())
    dialog.start_button.click()
    await asyncio.wait_for(done.wait(), 120)
    await asyncio.sleep(0.5)
    save(dialog, out)
    server.stop()
    window.close()


def main() -> None:
    theme, out = sys.argv[1], sys.argv[2]
    run(lambda window: render(window, theme, out))


if __name__ == "__main__":
    main()
