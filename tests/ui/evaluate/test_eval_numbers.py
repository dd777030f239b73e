"""Honest numbers in the Evaluate tab: flaky marks in the grid, intervals drawn in the chart,
the comparisons' sentences under the grid, and repeats from the window to the fake server."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester

from promptstudio.evals.compare import comparisons
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import DONE, CellResult, EvalCase, EvalColumn, EvalRun, summarize
from promptstudio.storage import library
from promptstudio.ui.evaluate.eval_chart import EvalChart
from promptstudio.ui.evaluate.eval_export import export_results
from promptstudio.ui.evaluate.eval_grid_model import (
    FLAKY_ROLE,
    EvalGridModel,
    verdict_colour,
)
from promptstudio.ui.evaluate.eval_results import EvalResultsView
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.evaluate.test_evaluate_in_window import evaluate, set_up

Role = Qt.ItemDataRole


def repeated_run(plan: dict[str, list[bool]], version: int = 3) -> EvalRun:
    """One model, ``len(samples)`` samples per case."""
    column = EvalColumn("m", "model", "model", "http://api")
    cases = tuple(EvalCase(key, n, {"n": n}) for n, key in enumerate(plan))
    repeat = max(len(samples) for samples in plan.values())
    run = EvalRun((column,), cases, version_number=version, settings={"repeat": repeat})
    for key, samples in plan.items():
        for sample, passed in enumerate(samples):
            grade = GradeResult(passed, float(passed), "why", "equals")
            run.put(CellResult(key, "m", DONE, text=f"answer {sample}", cost=0.001,
                               grades=(grade,), sample=sample))  # fmt: skip
    return run


def test_the_grid_marks_flaky_cases_with_text_colour_tooltip_and_accessible_text(qtbot) -> None:
    model = EvalGridModel()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    run = repeated_run({"a": [True, True, True], "b": [True, False, True], "c": [False] * 3})
    model.set_run(run)
    steady, flaky, failing = (model.index(row, 0) for row in range(3))
    assert [i.data() for i in (steady, flaky, failing)] == ["✓ 3/3", "≈ 2/3", "✗ 0/3"]
    assert [i.data(FLAKY_ROLE) for i in (steady, flaky, failing)] == [False, True, False]
    assert flaky.data(Role.AccessibleTextRole) == "Flaky: 2 of 3 samples passed"
    assert steady.data(Role.AccessibleTextRole) == "All 3 samples passed"
    assert "Flaky: 2 of 3 samples passed</b> (✓ ✗ ✓)" in flaky.data(Role.ToolTipRole)
    background = flaky.data(Role.BackgroundRole)
    assert isinstance(background, QColor)
    assert background == verdict_colour("flaky", background=True)
    assert background != steady.data(Role.BackgroundRole)
    # A sample arriving later updates the cell; without repeats nothing changes.
    run.put(CellResult("c", "m", DONE, grades=(GradeResult(True, 1.0, "", "equals"),), sample=2))
    with qtbot.waitSignal(model.dataChanged):
        model.update_cell(run.samples("c", "m")[2])
    assert failing.data() == "≈ 1/3"
    single = repeated_run({"a": [True]})
    single.settings.pop("repeat")
    model.set_run(single)
    assert model.index(0, 0).data() == "✓ pass" and model.index(0, 0).data(FLAKY_ROLE) is False
    del tester


def test_the_chart_draws_each_pass_rate_with_its_interval(qtbot) -> None:
    chart = EvalChart()
    qtbot.addWidget(chart)
    chart.resize(520, 200)
    run = repeated_run({str(n): [n < 5] for n in range(10)})
    run.settings.pop("repeat")
    chart.set_summaries(summarize(run))
    [interval] = chart.intervals()
    assert interval is not None
    assert interval[0] == run_interval(run)[0] and interval[1] == run_interval(run)[1]
    assert "pass rate 50%, 95% interval 24–76%" in chart.accessibleDescription()
    # The error bar is drawn: the line across the track reaches past the bar's end.
    with_bar = chart.grab().toImage()
    chart.set_summaries([dataclass_without_interval(summarize(run)[0])])
    without = chart.grab().toImage()
    differing = sum(
        with_bar.pixel(x, y) != without.pixel(x, y)
        for x in range(0, with_bar.width(), 2)
        for y in range(with_bar.height())
    )
    assert differing > 20


def run_interval(run: EvalRun) -> tuple[float, float]:
    interval = summarize(run)[0].pass_interval
    assert interval is not None
    return interval.low, interval.high


def dataclass_without_interval(summary: Any) -> Any:
    """The same figures with nothing graded: no interval, no error bar, the same bar width."""
    import dataclasses

    return dataclasses.replace(summary, pass_rate=None, pass_interval=None, graded=0)


def test_the_results_show_the_comparison_in_words(qtbot) -> None:
    view = EvalResultsView()
    qtbot.addWidget(view)
    old = repeated_run({str(n): [n >= 7] for n in range(10)}, version=3)
    new = repeated_run({str(n): [n != 7] for n in range(10)}, version=4)
    for run in (old, new):
        run.settings.pop("repeat")
    view.set_run(new)
    view.set_baseline(old)
    view.set_comparisons(comparisons(new, old))
    text = view.comparison_text()
    assert text.startswith("v4 vs v3 on model: pass rate 90% (95% CI 60–98%) vs 30% (11–60%)")
    assert "cost per 1,000 answers $1.00 vs $1.00 (+0%)" in text
    assert "v4 passes 7 cases v3 failed and fails 1 it passed; p = 0.07: not yet significant" in (
        text
    )
    assert "Mean score" not in text  # pass/fail scores: the pass rate's change says it
    rubric = repeated_run({"0": [True], "1": [True]}, version=5)
    rubric.settings.pop("repeat")
    rubric.put(CellResult("1", "m", DONE, grades=(GradeResult(True, 0.75, "", "g-eval"),)))
    view.set_comparisons(comparisons(rubric, new))
    assert "Mean score −0.12 (95% paired bootstrap CI −0.25 to +0.00)" in view.comparison_text()
    view.set_comparisons([])
    assert view.comparison_text() == ""


def test_repeats_from_the_evaluate_tab_reach_the_server_once(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, tmp_path)
    calls: dict[str, int] = {}

    def flaky_okay(model: str, body: dict[str, Any]) -> Reply | None:
        """As set_up's models, except "okay" is wrong on every second 3 + 10."""
        text = body["messages"][-1]["content"]
        a = int(text.split()[2])
        calls[f"{model}{a}"] = calls.get(f"{model}{a}", 0) + 1
        wrong = (model == "bad" and a in {2, 5, 8}) or (
            model == "okay" and a == 3 and calls[f"{model}{a}"] % 2 == 0
        )
        return Reply(text=str(a + 10 + (1 if wrong else 0)))

    fake_llm.respond(flaky_okay)
    pane = window.evaluate
    assert pane.repeat.accessibleName() == "Samples per case"
    pane.repeat.setValue(2)
    first = evaluate(qtbot, window)
    assert len(fake_llm.chat_requests()) == 10 * 3 * 2
    assert first.repeat == 2 and first.answers == 60
    assert "okay 95% [76–99%]" in pane.status.text()  # the summary line's rates carry intervals too
    grid = pane.results.grid_model
    okay = [c.key for c in first.columns].index(window.run_board.columns[1].column_id)
    assert grid.index(3, okay).data() == "≈ 1/2" and grid.index(3, okay).data(FLAKY_ROLE)
    assert grid.index(4, okay).data() == "✓ 2/2"
    summary = {s.label: s for s in summarize(first)}
    assert summary["okay"].flaky == 1 and summary["okay"].pass_hat_k == 0.9
    # The models are compared with the first, under the grid, as eval --compare does.
    qtbot.waitUntil(lambda: "okay vs good on v" in pane.results.comparison_text(), timeout=5000)
    second = evaluate(qtbot, window)
    assert len(fake_llm.chat_requests()) == 60  # every sample from the cache
    stored = window.workspace.db.call(library.list_eval_runs, prompt_id)
    assert [row.id for row in stored] == [second.id, first.id]
    assert second.answers == 60 and all(c.cached for c in second.more_samples.values())
    qtbot.waitUntil(lambda: "share" in pane.results.comparison_text() or "agree" in (
        pane.results.comparison_text()), timeout=5000)  # fmt: skip
    assert "samples" in pane.results.comparison_text()
    # The exported report carries what the grid shows under it.
    export_results(window.eval_flow, tmp_path / "report.json")
    exported = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [c["roi"] for c in exported["comparisons"]] == [
        c.roi_line() for c in pane.results.comparisons()
    ]
    assert exported["repeat"] == 2 and exported["summary"][0]["pass_rate_low"] is not None
    export_results(window.eval_flow, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.escape(pane.results.comparisons()[0].roi_line()) in page
