"""What a column tells the user: model lists, key status, move limits, early failures."""

from __future__ import annotations

from tests.fake_llm import DEFAULT_MODELS, Reply
from tests.ui.conftest import new_prompt


def test_fetching_models_shows_progress_then_the_count(window, qtbot, fake_llm) -> None:
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "")
    with qtbot.waitSignal(window.tasks.finished, timeout=10_000,
                          check_params_cb=lambda name: name.startswith("models:")):  # fmt: skip
        column.models_button.click()
        assert column.models_status.text() == "fetching…"
        assert not column.models_button.isEnabled()
    count = len(DEFAULT_MODELS)
    assert column.models_status.text() == f"{count} models"
    assert column.models_status.accessibleName().startswith(f"{count} models")
    assert column.models_button.isEnabled()


def test_a_failed_model_list_says_why(window, qtbot) -> None:
    column = window.run_board.columns[0]
    column.set_target("http://127.0.0.1:9/v1", "")
    with qtbot.waitSignal(window.tasks.finished, timeout=20_000,
                          check_params_cb=lambda name: name.startswith("models:")):  # fmt: skip
        column.models_button.click()
    assert column.models_status.text() == "no list"
    assert column.error.text().startswith("Could not list the models: ")
    assert "Could not list the models" in column.models_status.accessibleName()
    assert column.status.text() != "Not sent"  # nothing was sent: the run status is untouched
    assert column.models_button.isEnabled()


def test_a_new_column_shows_its_key_status_at_once(window) -> None:
    board = window.run_board
    added = board.add_column()
    assert added is not None and added.key_status.text() == "no key"
    duplicate = board.duplicate_column(added.column_id)
    assert duplicate is not None and duplicate.key_status.text() == "no key"


def test_move_left_and_right_are_offered_only_where_they_go(window) -> None:
    board = window.run_board
    while len(board.columns) < 3:
        board.add_column()

    def offered() -> list[tuple[bool, bool]]:
        return [(c.move_left.isEnabled(), c.move_right.isEnabled()) for c in board.columns]

    assert offered() == [(False, True), (True, True), (True, False)]
    board.move_column(board.columns[0].column_id, 1)
    assert offered() == [(False, True), (True, True), (True, False)]
    board.remove_column(board.columns[2].column_id)
    assert offered() == [(False, True), (True, False)]


def test_a_failure_before_any_token_reads_failed(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(status=400, error_message="model 'nope' is not loaded"))
    window.settings.update({"timeouts.max_retries": 0})
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "nope")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.status.text() == "Failed"
    assert column.error.text().startswith("Failed: ")
    assert "not loaded" in column.error.text() and "0 tokens" not in column.error.text()
