"""Columns use provider profiles: their key, kind and API; cost, retries and model lists."""

from __future__ import annotations

import keyring

from promptstudio.providers import ProviderProfile
from promptstudio.storage import library
from promptstudio.ui.run_column import cost_text
from tests.fake_llm import DEFAULT_MODELS, MESSAGES_PATH, Reply
from tests.ui.conftest import new_prompt


def test_a_column_on_an_anthropic_profile_speaks_messages_with_its_key(  # type: ignore[no-untyped-def]
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


def test_cost_per_column_and_the_cheapest_in_the_summary(window, qtbot, fake_llm) -> None:  # type: ignore[no-untyped-def]
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


def test_a_retry_is_visible_with_its_countdown(window, qtbot, fake_llm) -> None:  # type: ignore[no-untyped-def]
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


def test_the_model_list_is_fetched_into_the_model_field(window, qtbot, fake_llm) -> None:  # type: ignore[no-untyped-def]
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "")
    with qtbot.waitSignal(window.tasks.finished, timeout=10_000,
                          check_params_cb=lambda name: name.startswith("models:")):  # fmt: skip
        column.models_button.click()
    assert column.model_list.stringList() == sorted(DEFAULT_MODELS)
    assert str(len(DEFAULT_MODELS)) in column.models_button.toolTip()
