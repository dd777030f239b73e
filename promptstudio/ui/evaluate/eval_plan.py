"""The Evaluate tab's budget field and the plan shown before spending (``evals.plan``).

The budget field takes US dollars ("0.50", "$2"); empty uses the setting
``evaluate.max_cost`` (its placeholder says which). "Plan…" (Ctrl+Shift+B) shows what an
evaluation would send and cost, with how each figure was estimated; the same plan's total
is in the status line while an evaluation runs.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from promptstudio.evals.plan import (
    EvalPlan,
    cached_among,
    evaluation_cells,
    plan_evaluation,
    planned_models,
)
from promptstudio.evals.plan import read_history as read_model_history
from promptstudio.evals.runner import EvalError, Evaluation
from promptstudio.storage import Database
from promptstudio.ui import a11y


class BudgetField(QLineEdit):
    """At most this many dollars per evaluation; empty: the setting (or no limit)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evalBudget")
        self.setAccessibleName("Budget for this evaluation in US dollars")
        self.setMaximumWidth(90)
        self.set_default(None)

    def set_default(self, setting: object) -> None:
        """Show the setting's budget as the placeholder."""
        shown = f"${float(setting):g}" if isinstance(setting, int | float) else "no limit"
        self.setPlaceholderText(shown)
        self.setToolTip(
            f"Stop the evaluation before it would spend more than this many US dollars (real "
            f"usage at the price table's rates). Empty: the setting ({shown}). "
            "Run ▸ Plan the evaluation (Ctrl+Alt+E) shows what it would cost."
        )

    def limit(self, setting: object) -> float | None:
        """The budget in dollars: what is typed, else ``setting``; EvalError if unreadable."""
        text = self.text().strip().lstrip("$").strip()
        if not text:
            return float(setting) if isinstance(setting, int | float) else None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not value >= 0 or math.isinf(value):
            raise EvalError(f"The budget {self.text()!r} is not an amount of 0 or more dollars.")
        return value


async def plan_for(db: Database, evaluation: Evaluation, prompt_id: int | None) -> EvalPlan:
    """The evaluation's plan, calibrated on the library's past answers."""
    history = await db.acall(read_model_history, planned_models(evaluation), prompt_id)
    # Rendering every case takes ~1 ms each: off the GUI thread, and once.
    cells = await asyncio.to_thread(evaluation_cells, evaluation)
    keys = [key for _, key in cells if key]
    cached = set() if evaluation.fresh else await db.acall(cached_among, keys)
    return plan_evaluation(evaluation, history, cached, cells)


def show_plan(plan: EvalPlan, title: str, parent: QWidget, run: Callable[[], object]) -> PlanDialog:
    """Open the plan's dialog (not modal); "Run" calls ``run``."""
    dialog = PlanDialog(plan, title, parent)
    dialog.accepted.connect(run)
    dialog.open()
    return dialog


async def show_evaluation_plan(
    db: Database,
    prepared: Awaitable[Evaluation],
    prompt_id: int | None,
    pane: QWidget,
    run: Callable[[], object],
) -> PlanDialog:
    """The plan of the evaluation ``prepared`` gives (of ``prompt_id``), in its dialog."""
    plan = await plan_for(db, await prepared, prompt_id)
    return show_plan(plan, "Plan of the evaluation", pane.window(), run)


class PlanDialog(QDialog):
    """The plan in words; "Evaluate" runs it, Cancel sends nothing."""

    def __init__(self, plan: EvalPlan, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evalPlanDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 360)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("evalPlanText")
        self.text.setAccessibleName("The plan: requests, cache hits, tokens and cost")
        self.text.setReadOnly(True)
        a11y.keyboard_selectable(self.text)
        self.text.setPlainText("\n".join(plan.lines()))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.buttons)
