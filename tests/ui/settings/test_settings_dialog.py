"""The settings dialog is generated from the schema; bad values are refused at the field."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

from promptstudio.settings.schema import SETTINGS
from promptstudio.settings.store import SettingsStore
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt


def test_the_dialog_has_a_field_for_every_setting(window) -> None:
    dialog = window.open_settings()
    assert set(dialog.fields) == {setting.name for setting in SETTINGS}
    assert dialog.fields["timeouts.idle"].text() == "60"
    dialog.reject()


def test_an_invalid_value_is_refused_at_its_field_and_not_saved(
    window, qtbot, isolated_home
) -> None:
    dialog = window.open_settings()
    dialog.tabs.setCurrentIndex(0)
    idle = dialog.fields["timeouts.idle"]
    assert isinstance(idle, QLineEdit)
    idle.clear()
    qtbot.keyClicks(idle, "-3")
    dialog.fields["editor.font_size"].setText("15")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    ok.click()
    assert dialog.isVisible()  # not accepted
    error = dialog.errors["timeouts.idle"]
    assert not error.isHidden() and "at least 1" in error.text()
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Timeouts"  # shown to the user
    assert not (isolated_home / "settings.json").exists()  # nothing saved, not even the font
    assert window.editor.font().pointSize() != 15
    dialog.reject()


def test_valid_changes_persist_and_take_effect(window, qtbot, isolated_home) -> None:
    dialog = window.open_settings()
    dialog.fields["editor.font_size"].setText("15")
    dialog.fields["timeouts.idle"].setText("12.5")
    with qtbot.waitSignal(dialog.applied, timeout=2000) as applied:
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Apply).click()
    assert applied.args[0] == {"editor.font_size": 15, "timeouts.idle": 12.5}
    assert window.editor.font().pointSize() == 15
    saved = json.loads((isolated_home / "settings.json").read_text())
    assert saved["timeouts.idle"] == 12.5
    assert SettingsStore(isolated_home).get("editor.font_size") == 15
    dialog.reject()


def test_run_defaults_from_settings_reach_the_wire(window, qtbot, fake_llm) -> None:
    window.settings.update({"run.temperature": 0.3, "run.max_tokens": 77})
    fake_llm.script(Reply(text="ok"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Hello")
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    window.run_board.columns[0].max_tokens.setValue(5)  # the pane's own value wins over the default
    with qtbot.waitSignal(window.workspace.runStored, timeout=10_000):
        window.registry["run.run"].trigger()
    sent = fake_llm.requests[-1].json
    assert sent["temperature"] == 0.3
    assert sent["max_tokens"] == 5


def test_dark_theme_recolours_the_editor(window) -> None:
    light = window.editor.highlighter.formats["variable"].foreground().color().name()
    window.settings.update({"appearance.theme": "dark"})
    window.apply_settings({"appearance.theme": "dark"})
    dark = window.editor.highlighter.formats["variable"].foreground().color().name()
    assert dark != light
    window.settings.update({"appearance.theme": "system"})
    window.apply_settings({"appearance.theme": "system"})


def test_a_price_override_gives_a_local_model_a_cost(window, qtbot, fake_llm) -> None:
    dialog = window.open_settings()
    field = dialog.fields["prices.overrides"]
    field.setPlainText("my-local-model 1, 2")  # no colon
    assert not dialog.apply()
    assert "Price line 1" in dialog.errors["prices.overrides"].text()
    field.setPlainText("my-local-model: 1000, 2000")
    assert dialog.apply()
    dialog.close()
    fake_llm.script(Reply(text="a priced answer"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "my-local-model")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.result is not None and column.result.cost is not None and column.result.cost > 0
    assert "cost —" not in column.metrics.text()


def test_every_tab_name_is_in_view(window, qtbot) -> None:
    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    bar = dialog.tabs.tabBar()
    assert bar.count() >= 7
    for index in range(bar.count()):
        assert bar.rect().contains(bar.tabRect(index)), bar.tabText(index)
    dialog.resize(200, 300)  # the tabs hold the dialog's least width
    qtbot.wait(1)
    assert all(bar.rect().contains(bar.tabRect(i)) for i in range(bar.count()))
    dialog.close()
