"""Pick any two columns of the shown evaluation and see their paired comparison.

The comparisons under the grid pair each model with the first column (and the baseline
version's); this picker compares any two: "Compare co&lumn … a&gainst …" (Alt+L, Alt+G,
or Tab between the two boxes). The figures come from the same core function as the
others (:func:`promptstudio.evals.compare.compare_pair`), computed off the GUI thread:
the ROI line, McNemar's sentence and the mean score's bootstrap interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from promptstudio.evals.compare import Comparison, compare_pair
from promptstudio.evals.results import EvalColumn, EvalRun
from promptstudio.providers.pricing import PriceTable

if TYPE_CHECKING:
    from promptstudio.ui.evaluate.eval_results import EvalResultsView
    from promptstudio.ui.tasks import TaskOwner

PROMPT: Final = "Choose two columns to compare them case by case (McNemar's exact test)."
SAME: Final = "Choose two different columns."


class PairPicker(QWidget):
    """Two boxes naming the shown run's columns, and the chosen pair's comparison."""

    pairChosen = Signal(str, str)  # the column compared, the column it is compared against

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evalPairPicker")
        self.new = _box("evalPairNew", "Column to compare", self)
        self.old = _box("evalPairOld", "Column to compare it against", self)
        new_label = QLabel("Compare co&lumn", self)
        new_label.setBuddy(self.new)
        old_label = QLabel("a&gainst", self)
        old_label.setBuddy(self.old)
        self.result = QLabel(PROMPT, self)
        self.result.setObjectName("evalPairResult")
        self.result.setAccessibleName("Paired comparison of the chosen columns")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)  # column names are not markup
        self.result.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.result.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a keyboard path to copy it
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (new_label, self.new, old_label, self.old):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self.setTabOrder(self.new, self.old)
        self.setTabOrder(self.old, self.result)
        self.new.activated.connect(self._chosen)
        self.old.activated.connect(self._chosen)
        self.set_columns(())

    def set_columns(self, columns: Sequence[EvalColumn]) -> None:
        """The shown run's columns (the second against the first to begin with); hidden
        below two columns. The last result is cleared: it was about another run."""
        for box, default in ((self.new, 1), (self.old, 0)):
            kept = box.currentData()
            box.clear()
            for column in columns:
                box.addItem(column.label, column.key)
            found = box.findData(kept) if kept is not None else -1
            box.setCurrentIndex(found if found >= 0 else min(default, len(columns) - 1))
        self.result.setText(PROMPT)
        self.setVisible(len(columns) >= 2)

    def pair(self) -> tuple[str, str] | None:
        """(compared, against) column keys; None unless two different ones are chosen."""
        new, old = self.new.currentData(), self.old.currentData()
        if not isinstance(new, str) or not isinstance(old, str) or new == old:
            return None
        return new, old

    def choose(self, new_key: str, old_key: str) -> None:
        """Choose a pair as the user would (and compare it)."""
        self.new.setCurrentIndex(self.new.findData(new_key))
        self.old.setCurrentIndex(self.old.findData(old_key))
        self._chosen()

    def show_comparison(self, comparison: Comparison) -> None:
        from promptstudio.ui.evaluate.eval_results import comparison_lines  # it holds us

        self.result.setText("\n".join(comparison_lines(comparison)))

    def _chosen(self, _index: int = 0) -> None:
        pair = self.pair()
        if pair is None:
            self.result.setText(SAME if self.new.count() >= 2 else PROMPT)
            return
        self.result.setText("Comparing…")
        self.pairChosen.emit(*pair)


def compare_chosen_pairs(
    results: EvalResultsView, tasks: TaskOwner, prices: Callable[[], PriceTable]
) -> None:
    """Compare the pair chosen in ``results``' picker on the run it shows, off the GUI
    thread; a newer choice cancels an older one still computing."""

    async def compare(run: EvalRun, new_key: str, old_key: str) -> None:
        found = await asyncio.to_thread(compare_pair, run, new_key, old_key, prices())
        if results.grid_model.run is run and results.pair_picker.pair() == (new_key, old_key):
            results.pair_picker.show_comparison(found)

    def chosen(new_key: str, old_key: str) -> None:
        run = results.grid_model.run
        if run is not None:
            tasks.start("eval-pair", compare(run, new_key, old_key))

    results.pair_picker.pairChosen.connect(chosen)


def _box(name: str, accessible: str, parent: QWidget) -> QComboBox:
    box = QComboBox(parent)
    box.setObjectName(name)
    box.setAccessibleName(accessible)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box
