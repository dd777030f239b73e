"""Columns on one local server take turns ("Queued"), unless its provider says otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from promptstudio.providers import Endpoint
from promptstudio.ui.board.run_column import RunColumn
from promptstudio.ui.settings.providers_page import ProvidersPage
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt


@pytest.fixture
def llama_cpp() -> Iterator[FakeLLM]:
    """A server that cuts the stream it serves when another request arrives."""
    with FakeLLM(interrupt_requests=True) as server:
        server.script(Reply(text="a whole answer", first_token_delay=0.3))
        yield server


def _three_columns(window, qtbot, server: FakeLLM) -> list[RunColumn]:
    new_prompt(qtbot, window)
    window.editor.setPlainText("Say hello")
    board = window.run_board
    board.columns[0].set_target(server.base_url, "a")
    for model in "bc":
        board.add_column().set_target(server.base_url, model)
    return list(board.columns)


def test_three_columns_on_one_llama_cpp_server_queue_and_all_finish(
    window, qtbot, llama_cpp
) -> None:
    columns = _three_columns(window, qtbot, llama_cpp)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000):
        window.registry["run.run"].trigger()
        qtbot.waitUntil(lambda: [c.status.text() for c in columns].count("Queued") == 2)
        queued = next(c for c in columns if c.status.text() == "Queued")
        assert "one request at a time" in queued.status.toolTip()
    assert [c.status.text() for c in columns] == ["Done"] * 3
    assert all(c.output.toPlainText() == "a whole answer" for c in columns)
    assert llama_cpp.interrupted == 0
    assert "TTFT" in columns[0].metrics.toolTip() and "sending" in columns[0].metrics.toolTip()


def test_runs_started_apart_share_the_servers_turn(window, qtbot, llama_cpp) -> None:
    first, second, _third = _three_columns(window, qtbot, llama_cpp)
    with qtbot.waitSignals([window.workspace.runFinished] * 2, timeout=15_000):
        first.run_button.click()
        qtbot.waitUntil(lambda: first.status.text() == "Waiting…")
        second.run_button.click()
        qtbot.waitUntil(lambda: second.status.text() == "Queued")
    assert first.status.text() == second.status.text() == "Done"
    assert llama_cpp.interrupted == 0


def test_a_providers_requests_at_once_is_honoured(window, qtbot, llama_cpp) -> None:
    page = window.open_settings().findChild(ProvidersPage)
    profile = page.add_profile()
    assert profile is not None
    page.base_url.setText(llama_cpp.base_url)
    assert page.max_concurrent.accessibleName() == "Requests at once"
    assert page.max_concurrent.text() == "Default"
    page.max_concurrent.setValue(3)
    assert page.save_current()
    assert window.profiles.get(profile.id).max_concurrent == 3
    columns = _three_columns(window, qtbot, llama_cpp)
    assert all((p := c.profile()) is not None and p.id == profile.id for c in columns)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000):
        window.registry["run.run"].trigger()
    # Sent at once, as the provider asks: this server cuts the earlier streams, and the
    # columns say why.
    assert llama_cpp.interrupted >= 1
    failed = [c for c in columns if c.status.text() == "Failed"]
    assert len(failed) == llama_cpp.interrupted
    assert all("--interrupt_requests" in c.error.text() for c in failed)

    page.max_concurrent.setValue(0)  # back to the default: blank in the file
    assert page.save_current()
    assert window.profiles.get(profile.id).max_concurrent is None


@pytest.fixture
def preloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, bool]]:
    """What the window asks to preload: (base URL, model, on the GUI thread?)."""
    import threading

    from promptstudio.ui import endpoints

    calls: list[tuple[str, str, bool]] = []

    async def prepare(endpoint: Endpoint, model: str = "") -> None:
        on_gui = threading.current_thread() is threading.main_thread()
        calls.append((endpoint.base_url, model, on_gui))

    monkeypatch.setattr(endpoints, "prepare", prepare)
    return calls


def test_the_sdks_load_on_the_run_worker_once_the_library_is_shown(
    preloads, window, qtbot, fake_llm
) -> None:
    qtbot.waitUntil(lambda: bool(preloads))
    assert not any(on_gui for _url, _model, on_gui in preloads)
    # A column pointed at another server (maybe another SDK) preloads that one.
    window.run_board.columns[0].set_target(fake_llm.base_url, "picked")
    qtbot.waitUntil(lambda: any(url == fake_llm.base_url for url, _m, _g in preloads))
