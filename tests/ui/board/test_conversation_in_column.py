"""Continue a conversation in a run column (issue 17, Conversations): the answer becomes an
assistant turn, the user types the next turn, the reply streams into the column, every step
is stored with the run, and the conversation becomes a new prompt or a test case."""

from __future__ import annotations

from PySide6.QtCore import Qt

from promptstudio.chat import Message
from promptstudio.storage import library
from promptstudio.templating import render_messages
from promptstudio.ui.board.thread_view import TurnBar
from promptstudio.ui.history.history_pane import RUNS_TAB
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt

TEMPLATE = "system:\nBe brief.\nuser:\nName a colour."


def _run_once(window, qtbot, fake_llm):
    new_prompt(qtbot, window)
    window.editor.setPlainText(TEMPLATE)
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: column.turn_bar.continue_button.isEnabled(), timeout=5000)
    return column


def _send(window, qtbot, column, text: str) -> None:
    """Type the next turn and press Ctrl+Enter in it, as a person would."""
    bar = column.turn_bar
    if not bar.input_open:
        qtbot.mouseClick(bar.continue_button, Qt.MouseButton.LeftButton)
    assert bar.input_open and bar.input.hasFocus()
    qtbot.keyClicks(bar.input, text)
    qtbot.keyClick(bar.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_a_continued_conversation_sends_the_whole_history_and_is_stored(
    window, qtbot, fake_llm
) -> None:
    for text in ("Blue.", "Green.", "Red."):
        fake_llm.script(Reply(text=text), times=1)
    column = _run_once(window, qtbot, fake_llm)
    flow = window.workspace.conversations
    for turn in ("Another?", "One more?"):
        with qtbot.waitSignal(flow.stepStored, timeout=10_000):
            _send(window, qtbot, column, turn)
    qtbot.waitUntil(lambda: column.turn_bar.continue_button.isEnabled(), timeout=5000)

    requests = fake_llm.chat_requests()
    assert len(requests) == 3  # Ctrl+Enter in the turn's input did not run the prompt again
    assert [(m["role"], m["content"]) for m in requests[-1].json["messages"]] == [
        ("system", "Be brief."),
        ("user", "Name a colour."),
        ("assistant", "Blue."),
        ("user", "Another?"),
        ("assistant", "Green."),
        ("user", "One more?"),
    ]
    # The column shows the whole thread, the turns marked by role, the reply below it.
    assert column.answer_text() == "Red."
    assert column.thread_view.turns == [
        Message("assistant", "Blue."),
        Message("user", "Another?"),
        Message("assistant", "Green."),
        Message("user", "One more?"),
    ]
    assert "You:\nAnother?" in column.thread_view.text()
    assert column.thread_view.accessibleName() == "Conversation so far"
    # Stored with the run: the answer, then each step with the turn that led to it.
    db = window.workspace.db
    [version] = db.call(library.list_versions, window.workspace.prompt_id)
    [run] = db.call(library.runs_for_version, version.id)
    [answer] = run.responses
    assert answer.text == "Blue."
    assert [(s.step, s.turns, s.text) for s in answer.steps] == [
        (1, [{"role": "user", "content": "Another?"}], "Green."),
        (2, [{"role": "user", "content": "One more?"}], "Red."),
    ]
    # History's Runs tab shows the thread of the stored run.
    history = window.history
    window.registry["view.history"].trigger()
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=5000)
    with qtbot.waitSignal(history.runsShown, timeout=5000):
        history.tabs.setCurrentIndex(RUNS_TAB)
    qtbot.waitUntil(lambda: "Red." in history.answer.toPlainText(), timeout=5000)
    assert history.answer.toPlainText().startswith(
        "Assistant:\nBlue.\n\nYou:\nAnother?\n\nAssistant:\nGreen.\n\nYou:\nOne more?\n\n"
        "Assistant:\nRed.\n\n— 3 answers"
    )
    assert "conversation of 3 answers" in str(
        history.runs_model.index(0, 0, history.runs_model.index(0, 0)).data()
    )


def test_esc_in_the_turn_stops_the_reply_and_keeps_its_text(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="Blue."), times=1)
    fake_llm.script(Reply(text="tick " * 500, tokens_per_second=100), times=1)
    column = _run_once(window, qtbot, fake_llm)
    flow = window.workspace.conversations
    _send(window, qtbot, column, "Count")
    qtbot.waitUntil(lambda: column.answer_text().startswith("tick"), timeout=5000)
    with qtbot.waitSignal(flow.stepStored, timeout=10_000):
        qtbot.keyClick(column.turn_bar.input, Qt.Key.Key_Escape)
    assert column.status.text() == "Stopped"
    [answer] = window.workspace.db.call(library.list_responses, _run_id(window))
    [step] = answer.steps
    assert step.status == "cancelled" and step.text.startswith("tick")


def _run_id(window) -> int:
    db = window.workspace.db
    [version] = db.call(library.list_versions, window.workspace.prompt_id)
    return int(db.call(library.list_runs, version.id)[0].id)


def test_the_conversation_becomes_a_test_case_and_a_new_prompt(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="Blue."), times=1)
    fake_llm.script(Reply(text="Green."), times=1)
    column = _run_once(window, qtbot, fake_llm)
    flow = window.workspace.conversations
    with qtbot.waitSignal(flow.stepStored, timeout=10_000):
        _send(window, qtbot, column, "Another?")
    qtbot.waitUntil(lambda: column.turn_bar.as_case.isEnabled(), timeout=5000)

    column.turn_bar.as_case.trigger()
    [case] = window.workspace.session.cases  # the Evaluate tab's table has it
    assert case["vars"]["conversation"] == [
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another?"},  # up to the last user turn: it is replayed
    ]
    db, prompt_id = window.workspace.db, window.workspace.prompt_id
    qtbot.waitUntil(lambda: len(db.call(library.list_cases, prompt_id)) == 1, timeout=5000)

    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000):
        column.turn_bar.as_prompt.trigger()
    qtbot.waitUntil(lambda: "assistant:" in window.editor.toPlainText(), timeout=5000)
    rendered = render_messages(window.editor.toPlainText(), {})
    assert [(m.role, m.content) for m in rendered] == [
        ("system", "Be brief."),
        ("user", "Name a colour."),
        ("assistant", "Blue."),
        ("user", "Another?"),
        ("assistant", "Green."),
    ]


def test_closing_the_window_mid_reply_keeps_the_partial_step(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="Blue."), times=1)
    fake_llm.script(Reply(text="tick " * 500, tokens_per_second=100), times=1)
    column = _run_once(window, qtbot, fake_llm)
    _send(window, qtbot, column, "Count")
    qtbot.waitUntil(lambda: column.answer_text().startswith("tick"), timeout=5000)
    run_id = _run_id(window)
    window.close()
    [answer] = window.workspace.db.call(library.list_responses, run_id)
    [step] = answer.steps
    assert (step.step, step.status) == (1, "cancelled")
    assert step.text.startswith("tick") and step.turns == [{"role": "user", "content": "Count"}]


def test_a_failed_reply_can_be_sent_again_as_the_same_step(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text="Blue."), times=1)
    fake_llm.script(Reply(status=400, error_message="Bad request, on purpose."), times=1)
    fake_llm.script(Reply(text="Green."), times=1)
    column = _run_once(window, qtbot, fake_llm)
    flow = window.workspace.conversations
    with qtbot.waitSignal(flow.stepStored, timeout=10_000):
        _send(window, qtbot, column, "Another?")
    qtbot.waitUntil(lambda: column.turn_bar.send_button.isEnabled(), timeout=5000)
    assert column.status.text() == "Failed"
    assert column.turn_bar.input.toPlainText() == "Another?"  # typed once, kept
    assert column.thread_view.turns == [Message("assistant", "Blue.")]
    with qtbot.waitSignal(flow.stepStored, timeout=10_000):
        qtbot.keyClick(
            column.turn_bar.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
    assert column.answer_text() == "Green."
    [answer] = window.workspace.db.call(library.list_responses, _run_id(window))
    assert [(s.step, s.status, s.text) for s in answer.steps] == [(1, "done", "Green.")]
    sent = fake_llm.chat_requests()[-1].json["messages"]
    assert [m["content"] for m in sent][-2:] == ["Blue.", "Another?"]


def test_the_turn_bar_by_keyboard(qtbot) -> None:
    bar = TurnBar()
    qtbot.addWidget(bar)
    bar.show()
    assert not bar.continue_button.isEnabled()  # nothing to continue yet
    bar.set_state(can_continue=True, streaming=False, has_thread=False)
    assert not bar.as_case.isEnabled()  # a test case needs a turn of yours first
    bar.continue_button.click()
    assert bar.input_open
    with qtbot.assertNotEmitted(bar.sent):
        qtbot.keyClick(bar.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(bar.input, "Next")
    with qtbot.waitSignal(bar.sent) as sent:
        bar.send_button.click()
    assert sent.args == ["Next"] and bar.input.toPlainText() == ""
    bar.set_state(can_continue=False, streaming=True, has_thread=True)
    with qtbot.waitSignal(bar.stopRequested):
        qtbot.keyClick(bar.input, Qt.Key.Key_Escape)  # Esc stops the reply
    bar.set_state(can_continue=True, streaming=False, has_thread=True)
    qtbot.keyClick(bar.input, Qt.Key.Key_Escape)  # and closes the input when idle
    assert not bar.input_open
    for widget in (bar.continue_button, bar.use_button, bar.input, bar.send_button):
        assert widget.accessibleName()


def test_a_continued_turn_sends_the_prompts_tools_too(window, qtbot, fake_llm) -> None:
    import json

    fake_llm.script(Reply(text="Blue."), times=1)
    fake_llm.script(Reply(text="Green."))
    new_prompt(qtbot, window)
    window.editor.setPlainText(TEMPLATE)
    window.tools_panel.editor.setPlainText(
        json.dumps([{"name": "pick", "parameters": {"type": "object"}}])
    )
    window.tools_panel.check()
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: column.turn_bar.continue_button.isEnabled(), timeout=5000)
    with qtbot.waitSignal(window.workspace.conversations.stepStored, timeout=10_000):
        _send(window, qtbot, column, "Another?")
    first, second = fake_llm.chat_requests()
    assert first.json["tools"] == second.json["tools"]
    assert second.json["tools"][0]["function"]["name"] == "pick"
