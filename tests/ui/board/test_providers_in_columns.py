"""Columns use provider profiles: their key, kind and API; cost, retries and model lists."""

from __future__ import annotations

import json

import keyring
from PySide6.QtWidgets import QLabel, QTextBrowser

from promptstudio.providers import ProviderProfile
from promptstudio.storage import library
from promptstudio.ui.board.run_column import ColumnConfig, cost_text
from tests.fake_llm import DEFAULT_MODELS, MESSAGES_PATH, Reply
from tests.ui.conftest import new_prompt


def test_a_column_on_an_anthropic_profile_speaks_messages_with_its_key(
    window, qtbot, fake_llm
) -> None:
    profile = ProviderProfile(
        id="fake-claude", kind="anthropic", name="Fake Claude",
        base_url=fake_llm.anthropic_base_url,
    )  # fmt: skip
    window.profiles.add(profile)
    window.run_board.set_profiles(window.profiles.profiles())
    keyring.set_password("promptstudio", profile.key_account, "sk-ant-test-key")
    fake_llm.script(Reply(text="Bonjour from Claude"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("system:\nAnswer in French.\nuser:\nHello")
    column = window.run_board.columns[0]
    column.endpoint.setCurrentIndex(column.endpoint.findData("fake-claude"))
    assert column.profile() == profile
    column.model.setText("claude-haiku-4-5")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.output.toPlainText() == "Bonjour from Claude"
    request = fake_llm.requests[-1]
    assert request.path == MESSAGES_PATH
    assert request.json["system"] == "Answer in French."
    assert request.json["messages"] == [{"role": "user", "content": "Hello"}]
    assert "sk-ant-test-key" in (
        request.headers.get("x-api-key", "") + request.headers.get("authorization", "")
    )
    assert column.config().profile == "fake-claude"  # stored with the version


def test_cost_per_column_and_the_cheapest_in_the_summary(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(text=" ".join(["word"] * 50)), model="gpt-4o-mini")
    fake_llm.script(Reply(text=" ".join(["word"] * 50)), model="gpt-4o")
    fake_llm.script(Reply(text="local answer"), model="my-local-model")
    new_prompt(qtbot, window)
    window.editor.setPlainText("Write fifty words")
    board = window.run_board
    for index, model in enumerate(("gpt-4o-mini", "gpt-4o", "my-local-model")):
        column = board.columns[0] if index == 0 else board.add_column()
        column.set_target(fake_llm.base_url, model)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000) as finished:
        window.registry["run.run"].trigger()
    mini, _big, local = board.columns
    assert mini.result is not None and mini.result.cost is not None
    assert cost_text(mini.result.cost) in mini.metrics.text()
    assert "cost —" in local.metrics.text()  # no price known: no made-up number
    summary = board.summary.text()
    assert "cheapest: gpt-4o-mini" in summary
    assert "run cost $" in summary and "1 without a known price" in summary
    stored = window.workspace.db.call(library.list_responses, finished.args[0])
    costs = {r.model: r.cost for r in stored}
    assert costs["my-local-model"] is None
    assert 0 < (costs["gpt-4o-mini"] or 0) < (costs["gpt-4o"] or 0)


def test_a_retry_is_visible_with_its_countdown(window, qtbot, fake_llm) -> None:
    fake_llm.script(Reply(status=429, error_message="slow down", headers={"retry-after": "2"}),
                    times=1)  # fmt: skip
    fake_llm.script(Reply(text="after the retry"))
    window.settings.update({"timeouts.max_retries": 1})
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000):
        window.registry["run.run"].trigger()
        qtbot.waitUntil(lambda: column.status.text().startswith("Retry 1/1 in"), timeout=5000)
        assert "retrying in" in column.error.text()
    assert column.output.toPlainText() == "after the retry"
    assert column.status.text() == "Done" and column.error.isHidden()
    assert len([r for r in fake_llm.requests if r.path.endswith("/chat/completions")]) == 2


def test_the_model_list_is_fetched_into_the_model_field(window, qtbot, fake_llm) -> None:
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "")
    with qtbot.waitSignal(window.tasks.finished, timeout=10_000,
                          check_params_cb=lambda name: name.startswith("models:")):  # fmt: skip
        column.models_button.click()
    assert column.model_list.stringList() == sorted(DEFAULT_MODELS)
    assert str(len(DEFAULT_MODELS)) in column.models_button.toolTip()


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def test_reasoning_and_a_json_schema_reach_the_wire_and_the_answer_is_checked(
    window, qtbot, fake_llm
) -> None:
    fake_llm.script(Reply(text='{"name": "Ada", "age": "thirty-six"}'))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Extract the person")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    column.reasoning.setCurrentText("low")
    assert column.set_schema_text(json.dumps(SCHEMA))
    assert column.schema_button.text() == "Schema ✓"
    column.view_mode.setCurrentText("JSON")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    sent = fake_llm.requests[-1].json
    assert sent["reasoning_effort"] == "low"
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA
    assert column.json_status.text() == (
        "Valid JSON, but not valid against the schema at age: 'thirty-six' is not of type 'integer'"
    )
    assert column.config().params.json_schema == SCHEMA  # stored with the version


def test_a_bad_schema_is_refused_with_the_reason(window) -> None:
    column = window.run_board.columns[0]
    assert not column.set_schema_text('{"type": "objekt"}')
    assert "Not a usable JSON schema" in column.error.text()
    assert not column.set_schema_text("[1, 2")
    assert column.config().params.json_schema is None


def test_settings_an_api_cannot_carry_are_disabled(window, fake_llm) -> None:
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "llama3.2")  # a compatible server: Chat Completions
    assert column.seed.isEnabled() and column.top_k.isEnabled()
    assert not column.thinking.isEnabled()
    claude = ProviderProfile(
        id="c", kind="anthropic", name="C", base_url=fake_llm.anthropic_base_url
    )
    window.run_board.set_profiles([*window.profiles.profiles(), claude])
    column.endpoint.setCurrentIndex(column.endpoint.findData("c"))
    assert column.api() == "messages"
    assert not column.seed.isEnabled() and not column.json_mode.isEnabled()
    assert column.thinking.isEnabled() and column.top_k.isEnabled()
    assert "Anthropic Messages" in column.seed.toolTip()


def test_preview_puts_the_system_prompt_where_the_provider_does_and_prices_it(
    window, qtbot, fake_llm
) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("system:\nBe terse.\nuser:\nHello")
    board = window.run_board
    openai_column = board.columns[0]
    openai_column.set_target(fake_llm.base_url, "gpt-4o-mini")
    openai_column.max_tokens.setValue(500)
    claude = ProviderProfile(
        id="c", kind="anthropic", name="C", base_url=fake_llm.anthropic_base_url
    )
    board.set_profiles([*window.profiles.profiles(), claude])
    claude_column = board.add_column()
    claude_column.endpoint.setCurrentIndex(claude_column.endpoint.findData("c"))
    claude_column.model.setText("a-model-without-a-price")
    claude_column.max_tokens.setValue(None)  # new columns copy the last one's settings: unset
    dialog = window.workspace.preview()
    assert dialog is not None
    pages = [dialog.tabs.widget(i) for i in range(dialog.tabs.count())]
    first = pages[0].findChild(QTextBrowser, "previewMessages").toPlainText().splitlines()
    assert first == ["system", "Be terse.", "user", "Hello"]
    second = pages[1].findChild(QTextBrowser, "previewMessages").toPlainText().splitlines()
    assert second[0] == "system — sent as the request's system field"
    summary = pages[0].findChild(QLabel, "previewSummary").text()
    assert "up to 500 output tokens" in summary and "at most $" in summary
    other = pages[1].findChild(QLabel, "previewSummary").text()
    assert "up to 4,096 output tokens" in other and "no price known" in other
    dialog.close()


def test_an_anthropic_column_speaks_messages_whatever_api_it_was_given(
    window, qtbot, fake_llm
) -> None:
    fake_llm.script(Reply(text="ok"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Hi")
    claude = ProviderProfile(
        id="c", kind="anthropic", name="C", base_url=fake_llm.anthropic_base_url
    )
    board = window.run_board
    board.set_profiles([*window.profiles.profiles(), claude])
    column = board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    column.api_choice.setCurrentIndex(column.api_choice.findData("responses"))
    assert column.config().api == "responses"
    column.endpoint.setCurrentIndex(column.endpoint.findData("c"))  # no choice there
    assert column.config().api == "auto" and not column.api_choice.isEnabled()
    assert column.api_choice.currentText() == "Auto: Anthropic Messages"
    board.set_configs([ColumnConfig("", "claude-x", "c", api="chat")])  # made by hand
    column = board.columns[0]
    assert column.config().api == "auto"
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert [r.json["model"] for r in fake_llm.messages_requests()] == ["claude-x"]
    assert column.output.toPlainText() == "ok"
