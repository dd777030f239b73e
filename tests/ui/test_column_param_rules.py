"""The run column's editors take their ranges from the core's rule table (as imports do)."""

from __future__ import annotations

from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from promptstudio.providers import GenerationParams
from promptstudio.providers.param_rules import PARAM_RULES
from promptstudio.ui.board.run_column import ColumnConfig, RunColumn


def test_editor_ranges_are_the_import_rules(qtbot) -> None:
    column = RunColumn(ColumnConfig(base_url="http://localhost:8080/v1", model="m", id="c1"))
    qtbot.addWidget(column)
    spins = {"temperature": column.temperature, "top_p": column.top_p,
             "max_tokens": column.max_tokens, "top_k": column.top_k,
             "thinking_budget": column.thinking}  # fmt: skip
    for name, spin in spins.items():
        assert isinstance(spin, QSpinBox | QDoubleSpinBox), name
        assert spin.maximum() == PARAM_RULES[name].maximum, name
        assert spin.minimum() < PARAM_RULES[name].minimum  # below it: "default"
    validator = column.seed.validator()
    assert isinstance(validator, QIntValidator)
    assert (validator.bottom(), validator.top()) == (0, PARAM_RULES["seed"].maximum)
    efforts = [column.reasoning.itemText(i) for i in range(1, column.reasoning.count())]
    assert tuple(efforts) == PARAM_RULES["reasoning_effort"].choices
    # The largest values the rules allow survive the editor unchanged.
    top = GenerationParams(temperature=2, top_p=1, max_tokens=1_000_000, top_k=1000, seed=2**31 - 1)
    column.set_config(
        ColumnConfig(base_url="http://localhost:8080/v1", model="m", params=top, id="c1")
    )
    assert column.config().params == top
