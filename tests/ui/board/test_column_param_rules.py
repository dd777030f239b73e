"""The run column's editors are built from the core's parameter table, speak the settings'
own values (None: the server's default; no stand-in values) and check what is typed
against the same rules the importers use."""

from __future__ import annotations

from PySide6.QtCore import Qt

from promptstudio.providers import GenerationParams
from promptstudio.providers.param_rules import PARAM_RULES
from promptstudio.ui.board.param_editors import NumberEdit
from promptstudio.ui.board.run_column import ColumnConfig, RunColumn, params_summary

URL = "http://localhost:8080/v1"
EVERYTHING = GenerationParams(
    temperature=2,
    top_p=1,
    max_tokens=1_000_000,
    top_k=1000,
    seed=2**31 - 1,
    stop=("a", "b"),
    reasoning_effort="high",
    json_mode=True,
    json_schema={"type": "object"},
    thinking_budget=200_000,
)


def column_for(qtbot, **config) -> RunColumn:
    column = RunColumn(ColumnConfig(base_url=URL, model="m", id="c1", **config))
    qtbot.addWidget(column)
    return column


def test_every_setting_of_the_table_has_a_named_editor_where_the_table_says(qtbot) -> None:
    column = column_for(qtbot)
    assert list(column.param_widgets) == list(PARAM_RULES)
    column.show()
    for name, editor in column.param_widgets.items():
        rule = PARAM_RULES[name]
        assert name in editor.accessibleName() and editor.accessibleDescription() == rule.tip
        assert editor.isVisible() == rule.main, name  # "More" is folded
        if isinstance(editor, NumberEdit):
            assert editor.lineEdit().placeholderText() == rule.placeholder
    column.more_button.click()
    assert all(editor.isVisible() for editor in column.param_widgets.values())


def test_editors_round_trip_every_setting_and_none(qtbot) -> None:
    column = column_for(qtbot)
    assert column.config().params == GenerationParams()  # nothing set: nothing sent
    column.set_config(ColumnConfig(base_url=URL, model="m", params=EVERYTHING, id="c1"))
    assert column.config().params == EVERYTHING
    assert column.more_button.isChecked()
    for name, editor in column.param_widgets.items():
        assert editor.param_value() == getattr(EVERYTHING, name), name
    column.set_config(ColumnConfig(base_url=URL, model="m", id="c1"))
    assert column.config().params == GenerationParams()


def test_zero_is_zero_and_clearing_returns_to_the_servers_default(qtbot) -> None:
    column = column_for(qtbot)
    column.temperature.setValue(0.7)
    assert column.config().params.temperature == 0.7
    column.temperature.clear()
    assert column.config().params.temperature is None
    column.temperature.setValue(0.0)
    column.top_p.setValue(0.0)
    assert (column.config().params.temperature, column.config().params.top_p) == (0.0, 0.0)
    assert column.config().to_dict()["params"] == {"temperature": 0.0, "top_p": 0.0}


def test_keys_step_from_the_rule_and_down_from_the_minimum_is_default(qtbot) -> None:
    column = column_for(qtbot)
    temperature, thinking = column.temperature, column.thinking
    temperature.setFocus()
    qtbot.keyClick(temperature, Qt.Key.Key_Up)
    assert temperature.value() == 0.0 and temperature.text() == "0"
    qtbot.keyClick(temperature, Qt.Key.Key_Up)
    assert temperature.value() == 0.1
    qtbot.keyClick(temperature, Qt.Key.Key_Down)
    qtbot.keyClick(temperature, Qt.Key.Key_Down)
    assert temperature.value() is None and temperature.text() == ""
    qtbot.keyClick(temperature, Qt.Key.Key_Down)  # nothing below "default"
    assert temperature.value() is None
    thinking.setEnabled(True)
    thinking.stepBy(2)
    assert thinking.value() == 2048  # the rule's step of 1024, from the range's first step
    temperature.setValue(2)
    temperature.stepBy(1)
    assert temperature.value() == 2  # the rule's maximum


def test_typing_is_checked_by_the_rule_and_a_refused_value_is_explained(qtbot) -> None:
    column = column_for(qtbot)
    qtbot.keyClicks(column.seed, "42x")  # no number has an x: refused as typed
    assert column.seed.text() == "42" and column.config().params.seed == 42
    qtbot.keyClicks(column.max_tokens, "1.5")  # a whole number
    assert column.max_tokens.text() == "15"
    qtbot.keyClicks(column.temperature, "0.755")  # two decimals at most
    assert column.temperature.text() == "0.75" and column.config().params.temperature == 0.75
    column.temperature.lineEdit().selectAll()
    qtbot.keyClick(column.temperature.lineEdit(), Qt.Key.Key_Backspace)  # emptied: default
    assert column.config().params.temperature is None
    qtbot.keyClicks(column.temperature, "5")  # out of the rule's range: not taken
    assert column.config().params.temperature is None
    column.temperature.editingFinished.emit()
    assert column.temperature.text() == ""
    assert column.error.text() == "temperature: 5 is not allowed; it must be a number from 0 to 2"


def test_the_api_choice_greys_out_what_that_api_cannot_carry(qtbot) -> None:
    column = column_for(qtbot)
    assert column.api() == "chat" and column.api_choice.currentText() == "Auto: Chat Completions"
    assert column.stop.isEnabled() and column.seed.isEnabled()
    column.api_choice.setCurrentIndex(column.api_choice.findData("responses"))
    assert column.api() == "responses" and column.config().api == "responses"
    assert not column.stop.isEnabled() and not column.seed.isEnabled()
    assert "Responses API" in column.seed.toolTip()
    column.api_choice.setCurrentIndex(column.api_choice.findData("auto"))
    assert column.seed.isEnabled() and column.seed.toolTip() == PARAM_RULES["seed"].tip
    again = column_for(qtbot, api="responses", samples=4)
    assert (again.config().api, again.config().samples) == ("responses", 4)
    assert again.more_button.isChecked()  # the API chosen shows


def test_a_folded_title_names_every_setting_that_is_set(qtbot) -> None:
    named = ["T 2", "max 1000000", "top_p 1", "top_k 1000", "seed 2147483647"]
    named += ["reasoning high", "thinking 200000", "2 stop", "JSON", "JSON schema"]
    assert params_summary(EVERYTHING) == named
    assert params_summary(GenerationParams(temperature=0.0)) == ["T 0"]
    assert params_summary(GenerationParams()) == []
