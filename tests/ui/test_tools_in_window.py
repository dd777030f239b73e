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
    ws.session.show(ws.session.baseline)  # type: ignore[arg-type]  # the version again
    assert "get_order_status" in window.tools_panel.editor.toPlainText()


def _anthropic_column(window, fake_llm):  # type: ignore[no-untyped-def]
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
