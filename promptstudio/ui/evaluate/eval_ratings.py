"""Where a person's 👍 / 👎 on an evaluation cell goes: the cell's row in the library
(``storage.ratings``), then back into the results view as stored (grid mark, agreement)."""

from __future__ import annotations

from promptstudio.storage import Database
from promptstudio.storage.ratings import Rating, rate_eval_cell
from promptstudio.ui.evaluate.eval_results import EvalResultsView
from promptstudio.ui.tasks import TaskOwner


def store_cell_ratings(results: EvalResultsView, db: Database, tasks: TaskOwner) -> None:
    """Store every rating made in ``results`` on the stored evaluation it shows."""

    def rate(case_key: str, column_key: str, rating: Rating) -> None:
        run = results.grid_model.run
        if run is None or run.id is None:
            return
        eval_id = run.id

        async def store() -> None:
            stored = await db.acall(rate_eval_cell, eval_id, case_key, column_key, rating)
            if results.grid_model.run is run:
                results.set_rating(case_key, column_key, stored)

        tasks.start(f"eval-rate:{eval_id}:{case_key}:{column_key}", store())

    results.cellRated.connect(rate)
