"""The Tools panel and tool calls in run columns, driven as a person would (issue 17)."""

from __future__ import annotations

import json

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from promptstudio.providers import ProviderProfile
from promptstudio.storage import library
from tests.fake_llm import CHAT_PATH, MESSAGES_PATH, RESPONSES_PATH, Reply
from tests.ui.conftest import new_prompt, type_text

TOOLS = [
    {
        "name": "get_order_status",
        "description": "Look up an order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    }
]


def test_the_panel_checks_as_you_type_and_marks_the_bad_line(window, qtbot) -> None:
    new_prompt(qtbot, window)
    panel = window.tools_panel
    window.registry["view.tools"].trigger()  # Ctrl+5: the keyboard path to the panel
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.editor)
    assert panel.editor.accessibleName() and panel.status.accessibleName()
    type_text(qtbot, panel.editor, '[{"name": "f",\n"parameters": {"type": "strin"}}]')
    qtbot.waitUntil(lambda: panel.error is not None, timeout=3000)
    assert panel.status.text().startswith("Line 2, column")
    assert "not a valid JSON Schema" in panel.status.text()
    assert panel.marked_line == 2
    assert window.workspace.session.tools == ()  # nothing invalid reaches the session
    panel.editor.setPlainText(json.dumps(TOOLS, indent=2))
    qtbot.waitUntil(lambda: window.workspace.session.tools != (), timeout=3000)
    assert panel.marked_line is None
    assert panel.status.text() == "✓ 1 tool: get_order_status"


def test_tools_are_saved_with_the_version_and_shown_when_it_opens(window, qtbot) -> None:
    prompt_id = new_prompt(qtbot, window)
    window.editor.setPlainText("Where is my order?")
    window.tools_panel.editor.setPlainText(json.dumps(TOOLS))
    window.tools_panel.check()
    ws = window.workspace
    with qtbot.waitSignal(ws.versionsChanged, timeout=5000):
        window.registry["prompt.save"].trigger()
    latest = ws.db.call(library.latest_version, prompt_id)
    assert latest is not None and latest.settings["tools"][0]["name"] == "get_order_status"
    window.tools_panel.editor.setPlainText("")
    window.tools_panel.check()
    assert ws.session.tools == ()
    ws.session.show(ws.session.baseline)  # the version again
    assert "get_order_status" in window.tools_panel.editor.toPlainText()


def _anthropic_column(window, fake_llm):
    profile = ProviderProfile(
        id="fake-claude", kind="anthropic", name="Fake Claude",
        base_url=fake_llm.anthropic_base_url,
    )  # fmt: skip
    window.profiles.add(profile)
    window.run_board.set_profiles(window.profiles.profiles())
    keyring.set_password("promptstudio", profile.key_account, "sk-ant-test-key")
    column = window.run_board.columns[0]
    column.endpoint.setCurrentIndex(column.endpoint.findData("fake-claude"))
    column.model.setText("claude-test")
    return column


@pytest.mark.parametrize("api", ["chat", "responses", "messages"])
def test_a_column_shows_streamed_tool_calls_with_their_check(
    window, qtbot, fake_llm, api: str
) -> None:
    calls = [
        ("get_order_status", '{"order_id": "A-17"}'),
        ("get_order_status", '{"order_id": 17}'),  # a number: breaks the schema
    ]
    fake_llm.script(Reply(text="Let me look.", tool_calls=calls, tool_chunk=4))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Where is order A-17?")
    window.tools_panel.editor.setPlainText(json.dumps(TOOLS))
    window.tools_panel.check()
    if api == "messages":
        column = _anthropic_column(window, fake_llm)
    else:
        column = window.run_board.columns[0]
        column.set_target(fake_llm.base_url, "fake-model")
        column.api_choice.setCurrentIndex(column.api_choice.findData(api))
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    path = {"chat": CHAT_PATH, "responses": RESPONSES_PATH, "messages": MESSAGES_PATH}[api]
    assert fake_llm.requests[-1].path == path
    assert fake_llm.requests[-1].json["tools"]  # the tools went out in the API's own shape
    qtbot.waitUntil(lambda: "order_id" in column.tool_calls.plain_text(), timeout=3000)
    shown = column.tool_calls.plain_text()
    assert column.tool_calls.isVisible() and column.tool_calls.accessibleName()
    assert shown.count("get_order_status") == 2
    assert '"order_id": "A-17"' in shown  # pretty-printed
    assert "✓" in shown and "✗" in shown and "is not of type 'string'" in shown
    assert column.result is not None
    assert column.result.finish_reason == {"chat": "tool_calls", "responses": "completed",
                                           "messages": "tool_use"}[api]  # fmt: skip


def test_tool_choice_is_a_column_setting_from_the_parameter_table(window, qtbot, fake_llm) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("Where is order A-17?")
    window.tools_panel.editor.setPlainText(json.dumps(TOOLS))
    window.tools_panel.check()
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "fake-model")
    choice = column.param_widgets["tool_choice"]
    assert choice.accessibleName()
    choice.setFocus()
    choice.lineEdit().selectAll()
    qtbot.keyClicks(choice.lineEdit(), "get_order_status")
    parallel = column.param_widgets["parallel_tool_calls"]
    parallel.setCurrentIndex(parallel.findData("no"))
    assert column.config().params.tool_choice == "get_order_status"
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    body = fake_llm.chat_requests()[-1].json
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_order_status"}}
    assert body["parallel_tool_calls"] is False
    assert window.workspace.session.columns[0].params.tool_choice == "get_order_status"
    qtbot.keyClick(choice.lineEdit(), Qt.Key.Key_Tab)


TOOLS_WITH_MOCK = [{**TOOLS[0], "mock": '{"order_id": "{{ order_id }}", "status": "shipped"}'}]
CALL = [("get_order_status", '{"order_id": "A-17"}')]


def _tool_prompt(window, qtbot, fake_llm):
    new_prompt(qtbot, window)
    window.editor.setPlainText("Where is order A-17?")
    window.tools_panel.editor.setPlainText(json.dumps(TOOLS_WITH_MOCK))
    window.tools_panel.check()
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "fake-model")
    return column


def test_send_tool_results_does_one_step_and_stores_it(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="", tool_calls=CALL), times=1)
    fake_llm.script(Reply(text="Order A-17 has shipped."))
    column = _tool_prompt(window, qtbot, fake_llm)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: column.tool_bar.isVisible(), timeout=3000)
    send = column.tool_bar.send
    assert send.isEnabled() and send.accessibleName()
    send.setFocus()
    with qtbot.waitSignal(window.workspace.conversations.stepStored, timeout=10_000) as stored:
        qtbot.keyClick(send, Qt.Key.Key_Space)  # the keyboard path
    qtbot.waitUntil(lambda: column.output.toPlainText() == "Order A-17 has shipped.")
    second = fake_llm.chat_requests()[-1].json["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "get_order_status"
    assert second[-1]["role"] == "tool" and '"status": "shipped"' in second[-1]["content"]
    shown = column.tool_calls.plain_text()
    assert "mock result" in shown and "shipped" in shown  # the earlier step stays visible
    assert column.tool_bar.summary.text().startswith("Together: 2 answers")
    (answer,) = window.workspace.db.call(library.list_responses, _last_run(window))
    assert answer.id == stored.args[0]
    assert answer.tool_calls[0]["function"]["name"] == "get_order_status"
    assert [step.text for step in answer.steps] == ["Order A-17 has shipped."]


def test_auto_mode_runs_up_to_the_setting_and_esc_stops(window, qtbot, fake_llm) -> None:
    window.settings.update({"run.tool_steps": 3})
    fake_llm.script(Reply(text="", tool_calls=CALL))  # it never stops calling
    column = _tool_prompt(window, qtbot, fake_llm)
    column.tool_bar.auto.setChecked(True)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: len(fake_llm.chat_requests()) == 3, timeout=10_000)
    qtbot.waitUntil(lambda: not window.workspace.conversations.running, timeout=10_000)
    qtbot.wait(200)  # nothing more is sent after the third answer
    assert len(fake_llm.chat_requests()) == 3
    assert "3 answers" in column.tool_bar.summary.text()
    # A slow model and Esc: the step stops and the automatic mode with it.
    fake_llm.script(Reply(text="", tool_calls=CALL), times=1)
    fake_llm.script(Reply(text=" ".join(["slow"] * 400), tokens_per_second=40))
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: "slow" in column.output.toPlainText(), timeout=10_000)
    window.registry["run.stop"].trigger()
    qtbot.waitUntil(lambda: not window.workspace.conversations.running, timeout=10_000)
    assert column.result is not None and column.result.status.value == "cancelled"


def _last_run(window) -> int:
    version = window.workspace.db.call(library.latest_version, window.workspace.session.prompt_id)
    runs = window.workspace.db.call(library.runs_for_version, version.id)
    return int(runs[0].run.id)


def test_a_version_diff_shows_the_tools_that_changed(window, qtbot) -> None:
    new_prompt(qtbot, window)
    ws = window.workspace
    window.editor.setPlainText("Where is my order?")
    with qtbot.waitSignal(ws.versionsChanged, timeout=5000):
        window.registry["prompt.save"].trigger()
    window.tools_panel.editor.setPlainText(json.dumps(TOOLS))
    window.tools_panel.check()
    with qtbot.waitSignal(ws.versionsChanged, timeout=5000):
        window.registry["prompt.save"].trigger()
    window.registry["view.history"].trigger()
    history = window.history
    qtbot.waitUntil(lambda: history.model.rowCount() == 2, timeout=5000)
    newest = history.model.index(0, 0)
    with qtbot.waitSignal(history.diffShown, timeout=5000):
        history.table.setCurrentIndex(newest)
        history.show_details()
    right = history.diff.right.toPlainText()
    assert "── tools ──" in right and '"get_order_status"' in right
    assert "get_order_status" not in history.diff.left.toPlainText()


def test_a_typed_turn_after_a_tool_step_goes_on_from_the_whole_thread(
    window, qtbot, fake_llm
) -> None:
    fake_llm.script(Reply(text="", tool_calls=CALL), times=1)
    fake_llm.script(Reply(text="Order A-17 has shipped."), times=1)
    fake_llm.script(Reply(text="Tomorrow."))
    column = _tool_prompt(window, qtbot, fake_llm)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: column.tool_bar.isVisible(), timeout=3000)
    with qtbot.waitSignal(window.workspace.conversations.stepStored, timeout=10_000):
        qtbot.mouseClick(column.tool_bar.send, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: column.turn_bar.continue_button.isEnabled(), timeout=5000)
    bar = column.turn_bar
    qtbot.mouseClick(bar.continue_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(bar.input, "When?")
    with qtbot.waitSignal(window.workspace.conversations.stepStored, timeout=10_000) as stored:
        qtbot.keyClick(bar.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    third = fake_llm.chat_requests()[-1].json
    assert [m["role"] for m in third["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert third["messages"][-2]["content"] == "Order A-17 has shipped."
    assert third["tools"][0]["function"]["name"] == "get_order_status"
    (answer,) = window.workspace.db.call(library.list_responses, _last_run(window))
    assert answer.id == stored.args[0]
    assert [step.text for step in answer.steps] == ["Order A-17 has shipped.", "Tomorrow."]
