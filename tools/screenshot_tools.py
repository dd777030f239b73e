"""Render a tool call in a run column (the support agent sample, its order tool), for docs/.

    .venv/bin/python tools/screenshot_tools.py WIDTH HEIGHT light|dark OUT.png [--xcb]

The support agent sample with its ``get_order_status`` tool; the fake server answers with
a call, the mock result goes back ("Send tool results") and the reply streams.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tools.screenshot import run, save, show_window

CALL = [("get_order_status", '{"order_id": "LN-48213"}')]
REPLY = (
    "Good news: your order LN-48213 has shipped with DHL and should reach you in 2 days.\n\n"
    "1. Track it with the link in your shipping e-mail.\n2. If it has not arrived by "
    "then, reply here and a colleague will check with the carrier.\n\nDid this help?"
)


async def render(window: MainWindow, width: int, height: int, theme: str, out: str) -> None:
    await show_window(window, theme, (width, height))
    ws = window.workspace
    agent = next(p for p in ws.db.call(library_prompts) if p.name.startswith("Support"))
    ws.open_prompt(agent.id)
    await asyncio.sleep(1.0)
    values = dict(ws.session.values)
    values["customer_message"] = "Hello, where is my order LN-48213? It was due on Monday."
    ws.session.values = values
    window.variables.set_values(values)
    server = FakeLLM()
    server.start()
    server.script(Reply(text="", tool_calls=CALL, tokens_per_second=200), times=1)
    server.script(Reply(text=REPLY, first_token_delay=0.3, tokens_per_second=150))
    column = window.run_board.columns[0]
    column.set_target(server.base_url, "gpt-4o-mini")
    done = asyncio.Event()
    ws.runFinished.connect(lambda _id: done.set())
    window.registry["run.run"].trigger()
    await asyncio.wait_for(done.wait(), 60)
    await asyncio.sleep(0.3)
    stored = asyncio.Event()
    ws.conversations.stepStored.connect(lambda _id: stored.set())
    column.tool_bar.send.click()
    await asyncio.wait_for(stored.wait(), 60)
    await asyncio.sleep(0.5)
    save(window, out)
    server.stop()
    window.close()


def library_prompts(conn):  # type: ignore[no-untyped-def]
    from promptstudio.storage import library

    return library.list_prompts(conn)


def main() -> None:
    width, height, theme, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    run(lambda window: render(window, width, height, theme, out))


if __name__ == "__main__":
    main()
