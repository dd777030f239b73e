"""Send as a batch in the real window: pending cells with their batch's state, filled in
after a restart (the batches are polled and collected by the next session)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from promptstudio.credentials import KeyStore
from promptstudio.evals import results
from promptstudio.evals.results import ModelSummary
from promptstudio.paths import data_dir
from promptstudio.storage import batches as stored
from promptstudio.storage import library
from promptstudio.ui.app import open_library
from promptstudio.ui.evaluate.eval_summary_model import cost_text
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt
from tests.ui.evaluate.test_evaluate_in_window import evaluate, set_up


def test_send_as_a_batch_shows_pending_cells_and_fills_them_in_after_a_restart(
    window: MainWindow, qtbot, fake_llm: FakeLLM, isolated_home: Path, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    fake_llm.batches.seconds = 600  # nothing ends while this window is open
    pane = window.evaluate
    assert pane.batch.accessibleName() == "Send as a batch"
    pane.batch.setFocus()
    qtbot.keyClick(pane.batch, Qt.Key.Key_Space)  # the keyboard path
    assert pane.batch.isChecked()
    db = window.workspace.db
    window.registry["eval.run"].trigger()  # Ctrl+Shift+E, as a live evaluation
    qtbot.waitUntil(
        lambda: (
            len(db.call(stored.list_batches)) == 3
            and all(b.remote_id for b in db.call(stored.list_batches))
        ),
        timeout=15_000,
    )
    grid = pane.results.grid_model
    qtbot.waitUntil(lambda: "batch " in str(grid.data(grid.index(0, 0))), timeout=5000)
    shown = str(grid.data(grid.index(0, 0)))  # its state, answered of all, time since sent
    assert re.fullmatch(r"batch (validating|in_progress) · 0/10 · \d+ s", shown), shown
    spoken = str(grid.data(grid.index(9, 2), Qt.ItemDataRole.AccessibleTextRole))
    assert spoken.startswith("Waiting for batch batch_fake") and "0 failed" in spoken, spoken
    assert "Waiting for 3 batches" in pane.status.text()
    assert not fake_llm.chat_requests()  # nothing sent live
    window.close()

    for batch in fake_llm.batches.batches.values():
        batch.seconds = 0.01  # they end now, while no window is open
    library = open_library(data_dir(isolated_home))
    again = MainWindow(library, KeyStore(), data_dir(isolated_home))
    qtbot.addWidget(again)
    again.show()
    try:
        with qtbot.waitSignal(again.workspace.promptOpened, timeout=5000):
            again.start()
        grid = again.evaluate.results.grid_model
        qtbot.waitUntil(
            lambda: grid.run is not None and grid.run.status == "done" and grid.run.answers == 30,
            timeout=20_000,
        )
        assert "batch" not in str(grid.data(grid.index(0, 0)))
        run = grid.run
        assert run is not None
        rates = {s.label: s.pass_rate for s in results.summarize(run)}
        assert rates == {"good": 1.0, "okay": 1.0, "bad": 0.7}
        assert all(b.collected for b in library.call(stored.list_batches))
    finally:
        again.close()
        library.close()


def test_the_summary_tells_the_batch_price_apart() -> None:
    summary = ModelSummary("c1", "m", 4, 4, 4, 0, 0, 1.0, 1.0, None, None, 0.03, batch_cost=0.02)
    assert cost_text(summary) == "$0.030 ($0.020 batch)"
    assert summary.live_cost == pytest.approx(0.01)
    live = ModelSummary("c1", "m", 4, 4, 4, 0, 0, 1.0, 1.0, None, None, 0.03)
    assert cost_text(live) == "$0.030"


def test_a_server_without_batches_is_named_and_nothing_is_stored(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    fake_llm.batches.enabled = False
    window.evaluate.batch.setChecked(True)
    window.registry["eval.run"].trigger()

    def error_text() -> str:
        boxes = [b for b in window.findChildren(QMessageBox, "errorMessageBox") if b.isVisible()]
        return boxes[0].text() if boxes else ""

    qtbot.waitUntil(lambda: "does not offer batches" in error_text(), timeout=10_000)
    assert "good" in error_text()  # the column it is about
    db = window.workspace.db
    assert db.call(stored.list_batches) == []
    prompt_id = window.workspace.prompt_id
    assert prompt_id is not None and db.call(library.list_eval_runs, prompt_id) == []
    assert not fake_llm.chat_requests()


def _send_as_a_batch(qtbot, window: MainWindow) -> None:
    """Evaluate with "Send as a batch" checked; returns once the 3 batches are sent and the
    grid shows them pending."""
    db = window.workspace.db
    sent = len(db.call(stored.list_batches)) + 3
    window.evaluate.batch.setChecked(True)
    window.registry["eval.run"].trigger()
    qtbot.waitUntil(
        lambda: (
            len(db.call(stored.list_batches)) == sent
            and all(b.remote_id for b in db.call(stored.list_batches))
        ),
        timeout=15_000,
    )
    grid = window.evaluate.results.grid_model
    qtbot.waitUntil(lambda: "batch " in str(grid.data(grid.index(0, 0))), timeout=5000)
    window.evaluate.batch.setChecked(False)


def test_a_waiting_cells_elapsed_time_ticks_between_polls(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    fake_llm.batches.seconds = 600
    _send_as_a_batch(qtbot, window)
    grid = window.evaluate.results.grid_model
    first = str(grid.data(grid.index(0, 0)))
    changed: list[tuple[int, int, int, int]] = []
    grid.dataChanged.connect(
        lambda top, bottom, roles=(): changed.append(
            (top.row(), top.column(), bottom.row(), bottom.column())
        )
    )
    # The poll is every 30 s: the text moves on within a few seconds all the same.
    qtbot.waitUntil(lambda: str(grid.data(grid.index(0, 0))) != first, timeout=4000)
    assert re.fullmatch(r"batch \w+ · 0/10 · \d+ s", str(grid.data(grid.index(0, 0))))
    spoken = str(grid.data(grid.index(0, 0), Qt.ItemDataRole.AccessibleTextRole))
    assert spoken.endswith(" s ago"), spoken
    # Cheap: each tick repaints the waiting columns, one column at a time.
    assert changed and all(c[1] == c[3] and (c[0], c[2]) == (0, 9) for c in changed), changed
    window.close()


def test_the_default_baseline_skips_an_evaluation_still_pending(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    fake_llm.batches.seconds = 600
    first = evaluate(qtbot, window)
    window.evaluate.fresh.setChecked(True)  # the same version, asked again (not the cache)
    _send_as_a_batch(qtbot, window)
    pending = window.eval_flow.shown
    assert pending is not None and pending.status == "pending"
    latest = evaluate(qtbot, window)
    assert latest.id not in (first.id, pending.id)
    baseline = window.eval_flow.baseline
    assert baseline is not None and baseline.id == first.id  # not the pending one between
    window.close()


def test_a_runs_samples_go_as_a_batch_and_show_pending_then_filled_in(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    fake_llm.respond(lambda model, body: Reply(text=f"{model} says hi"))
    fake_llm.batches.seconds = 600
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("user:\nGreet me.")
    window.run_board.columns[0].set_target(fake_llm.base_url, "good")
    window.run_board.repeats.setValue(3)  # the Samples box
    action = window.registry["eval.samples_batch"]
    assert action.shortcut().toString() == "Ctrl+K, B"  # the keyboard path
    action.trigger()
    db = window.workspace.db
    qtbot.waitUntil(
        lambda: [bool(b.remote_id) for b in db.call(stored.list_batches)] == [True], timeout=15_000
    )
    assert window.bottom_tabs.currentWidget() is window.evaluate
    grid = window.evaluate.results.grid_model
    qtbot.waitUntil(lambda: "batch " in str(grid.data(grid.index(0, 0))), timeout=5000)
    assert re.fullmatch(r"batch \w+ · 0/3 · \d+ s", str(grid.data(grid.index(0, 0))))
    assert not fake_llm.chat_requests()  # nothing sent live
    [batch] = db.call(stored.list_batches)
    assert batch.requests == 3

    fake_llm.batches.batches[batch.remote_id or ""].seconds = 0.01  # it ends now
    window.eval_flow.batches.poll()
    qtbot.waitUntil(lambda: grid.run is not None and grid.run.status == "done", timeout=15_000)
    run = grid.run
    assert run is not None and run.repeat == 3
    answers = run.samples("run", run.columns[0].key)
    assert [cell.text for cell in answers] == ["good says hi"] * 3
    assert all(cell.batch for cell in answers)
    assert str(grid.data(grid.index(0, 0))) == "— no checks · 3 samples"
    qtbot.waitUntil(lambda: "Waiting" not in window.evaluate.status.text(), timeout=5000)
    results_pane = window.evaluate.results
    results_pane.grid.setCurrentIndex(grid.index(0, 0))
    detail = results_pane.detail.toPlainText()
    assert "Sample 3 of 3" in detail and detail.count("good says hi") == 3, detail
    window.close()
