"""The pass-rate and cost chart: what it draws from, and that it draws at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from promptstudio.evals.results import ModelSummary, summarize
from promptstudio.ui.evaluate.eval_chart import EvalChart
from promptstudio.ui.theme import _dark_palette
from tests.ui.evaluate.test_eval_grid_model import build_run

SHOTS = Path("/tmp")


def summary(
    key: str, label: str, rate: float | None, cost: float | None, **kw: int
) -> ModelSummary:
    return ModelSummary(
        column_key=key, label=label, cells=10, graded=10, passed=round((rate or 0) * 10),
        failed_requests=0, cached=kw.get("cached", 0), pass_rate=rate, mean_score=rate,
        mean_latency_ms=500.0, p95_latency_ms=900.0, total_cost=cost,
    )  # fmt: skip


def image(chart: EvalChart) -> QImage:
    return chart.grab().toImage()


def differing_pixels(a: QImage, b: QImage) -> int:
    assert a.size() == b.size()
    step = 3
    return sum(
        a.pixel(x, y) != b.pixel(x, y)
        for x in range(0, a.width(), step)
        for y in range(0, a.height(), step)
    )


@pytest.fixture
def chart(qtbot) -> EvalChart:
    widget = EvalChart()
    qtbot.addWidget(widget)
    widget.resize(520, 260)
    return widget


def test_bars_follow_the_summaries(chart: EvalChart) -> None:
    assert chart.bars() == []
    chart.set_summaries(
        [
            summary("a", "GPT-4o mini", 0.8, 0.002),
            summary("b", "Claude", 1.0, 0.008),
            summary("c", "Llama (local)", 0.5, None),
            summary("d", "No checks", None, 0.0),
        ]
    )
    assert chart.bars() == [
        ("GPT-4o mini", 0.8, 0.25),
        ("Claude", 1.0, 1.0),
        ("Llama (local)", 0.5, None),
        ("No checks", 0.0, 0.0),
    ]


def test_all_free_costs_are_zero_bars(chart: EvalChart) -> None:
    chart.set_summaries([summary("a", "A", 0.5, 0.0, cached=10), summary("b", "B", 0.5, 0.0)])
    assert [cost for _, _, cost in chart.bars()] == [0.0, 0.0]


def test_size_grows_with_models(chart: EvalChart) -> None:
    empty = chart.sizeHint().height()
    chart.set_summaries([summary("a", "A", 0.5, 0.1)])
    one = chart.sizeHint().height()
    chart.set_summaries([summary(k, k, 0.5, 0.1) for k in "abcd"])
    four = chart.sizeHint().height()
    assert empty <= one < four
    assert chart.minimumSizeHint().height() == four
    assert chart.minimumSizeHint().width() < chart.sizeHint().width()


@pytest.mark.parametrize("dark", [False, True])
def test_drawing_differs_from_empty(
    chart: EvalChart, qapp: QApplication, qtbot, dark: bool
) -> None:
    previous = qapp.palette()
    if dark:
        qapp.setPalette(_dark_palette())  # reaches existing widgets through posted events
        qtbot.waitUntil(lambda: chart.palette().window().color().lightness() < 128)
    try:
        empty = image(chart)
        chart.set_summaries(summarize(build_run()))
        filled = image(chart)
        assert differing_pixels(empty, filled) > 500
        name = "dark" if dark else "light"
        assert filled.save(str(SHOTS / f"eval_chart_{name}.png"))
        chart.set_summaries([])
        assert differing_pixels(empty, image(chart)) == 0  # back to "No results yet"
    finally:
        qapp.setPalette(previous)


def test_long_labels_are_elided_and_fit(chart: EvalChart, tmp_path: Path) -> None:
    chart.resize(300, 200)
    chart.set_summaries([summary("a", "an-extremely-long-model-name-from-some-provider", 0.3, 1.5)])
    shot = image(chart)
    assert shot.save(str(tmp_path / "long.png"))
    assert not shot.isNull() and shot.width() == 300 * int(shot.devicePixelRatio())


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the tooltip, offscreen
def test_similar_long_names_stay_told_apart_with_the_full_name_on_hover(
    chart: EvalChart, qtbot
) -> None:
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    names = ["fake-model-alpha · local server", "fake-model-beta · local server"]
    chart.set_summaries([summary("a", names[0], 0.5, 0.1), summary("b", names[1], 1.0, 0.2)])
    chart.resize(260, chart.sizeHint().height())
    chart.show()
    qtbot.waitExposed(chart)
    shown = chart.shown_labels()
    assert shown == names  # a line of their own: the whole width, nothing cut here
    chart.resize(150, chart.height())
    shown = chart.shown_labels()
    assert [label.split(" · ")[0] for label in shown] == ["fake-model-alpha", "fake-model-beta"]
    assert all(label.endswith("…") for label in shown)  # the server gives way first
    chart.resize(60, chart.height())
    assert all("…" in label for label in chart.shown_labels())
    assert all(name in chart.accessibleDescription() for name in names)
    for index, name in enumerate(names):
        y = next(y for y in range(chart.height()) if chart.bar_at(y) == index)
        point = QPoint(20, y + 2)
        QApplication.sendEvent(
            chart, QHelpEvent(QEvent.Type.ToolTip, point, chart.mapToGlobal(point))
        )
        qtbot.waitUntil(lambda name=name: QToolTip.text().startswith(name))
    QToolTip.hideText()
