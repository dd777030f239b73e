"""History's Graph tab: versions in lanes under their parents, labels and latest pass rates
shown, Up/Down to move and Return to select the version in History."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import CellResult, EvalColumn, EvalRun
from promptstudio.evals.store import cases_from_rows, save_run
from promptstudio.evals.version_graph import lay_out
from promptstudio.storage import Database, library
from promptstudio.storage.rows import LabelGate, VersionSummary
from promptstudio.storage.versions import insert_version
from promptstudio.ui.history.history_pane import GRAPH_TAB, HistoryPane
from promptstudio.ui.history.version_graph_view import LANE_COLOURS
from tests.ui.conftest import owned_widget

TIMEOUT = 5000


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "library.sqlite3")
    yield database
    database.close()


@pytest.fixture
def pane(qtbot: QtBot, db: Database, qloop: asyncio.AbstractEventLoop) -> Iterator[HistoryPane]:
    with owned_widget(qtbot, lambda tasks: HistoryPane(db, tasks)) as widget:
        widget.resize(1100, 800)
        widget.show()
        yield widget


def _seed(db: Database) -> tuple[int, list[int]]:
    """v1 ← v2 (staging, 2/4 passed); v1 ← v3 ← v4 (production, 4/4): a branch at v1."""

    def write(conn: sqlite3.Connection) -> tuple[int, list[int]]:
        prompt = library.create_prompt(conn, "Support")
        v1 = library.save_version(conn, prompt.id, "Answer {{ q }}", {}, {}).id
        v2 = library.save_version(conn, prompt.id, "Answer {{ q }} briefly", {}, {}).id
        v3 = insert_version(
            conn,
            prompt.id,
            template="Answer {{ q }} kindly",
            variables={},
            settings={},
            message="rewrite of v1",
            kind="save",
            parent_id=v1,
        )
        v4 = library.save_version(conn, prompt.id, "Answer {{ q }} kindly, in full", {}, {}).id
        library.replace_cases(conn, prompt.id, [{"vars": {"q": f"q{n}"}} for n in range(4)])
        library.set_label(conn, prompt.id, "production", v4)
        library.set_label(conn, prompt.id, "staging", v2)
        library.set_label_gate(conn, prompt.id, "production", LabelGate(0.9))
        return prompt.id, [v1, v2, v3, v4]

    prompt_id, ids = db.call(write)
    for version_id, passes in ((ids[1], 2), (ids[3], 4)):
        cases = cases_from_rows(db.call(library.list_cases, prompt_id))
        run = EvalRun((EvalColumn("c", "m", "m", "http://127.0.0.1:1/v1"),), cases)
        for n, case in enumerate(cases):
            grade = GradeResult(n < passes, float(n < passes), "", "equals")
            run.put(CellResult(case.key, "c", "done", text="x", grades=(grade,)))
        db.call(save_run, version_id, run)
    return prompt_id, ids


def _show_graph(qtbot: QtBot, pane: HistoryPane, prompt_id: int) -> None:
    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.set_prompt(prompt_id)
    with qtbot.waitSignal(pane.graphShown, timeout=TIMEOUT):
        pane.tabs.setCurrentIndex(GRAPH_TAB)


def test_the_graph_shows_branches_labels_and_pass_rates(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, (v1, v2, v3, v4) = _seed(db)
    _show_graph(qtbot, pane, prompt_id)
    view = pane.graph.view
    model = view.graph_model
    texts = [model.index(r).data() for r in range(model.rowCount())]
    assert texts == [
        "v4 · save · labels production (gated: pass rate ≥ 90% on every model) · "
        "pass rate 100% (4/4)",
        "v3 · save · not evaluated · branched from v1 · rewrite of v1",
        "v2 · save · labels staging · pass rate 50% (2/4)",
        "v1 · save · not evaluated",
    ]
    rows = [model.graph_row(r) for r in range(4)]
    assert [(r.lane, r.above, r.below, r.joins) for r in rows] == [
        (0, (), (0,), ()),
        (0, (0,), (0,), ()),
        (1, (0,), (0, 1), ()),  # v2 is on its own lane: v3 and v4 branched off v1
        (0, (0, 1), (), (1,)),  # both lanes meet at v1
    ]
    assert model.index(0).data(Qt.ItemDataRole.AccessibleTextRole) == texts[0]
    assert view.accessibleName() == "Version graph"
    assert view.currentIndex().row() == 0  # History's selection: the newest version

    image = view.viewport().grab().toImage()
    assert _has_colour(image, QColor(LANE_COLOURS[1]))  # the branch's lane is drawn

    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.current_version_id() == v2
    with qtbot.waitSignal(pane.graphShown, timeout=TIMEOUT):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert [v.id for v in pane.selected_versions()] == [v2]
    assert view.current_version_id() == v2  # still there after History followed
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.current_version_id() == v3
    qtbot.keyClick(view, Qt.Key.Key_Right)  # along the line to the parent, past v2
    assert view.current_version_id() == v1
    qtbot.keyClick(view, Qt.Key.Key_Right)  # v1 has none: stays
    assert view.current_version_id() == v1
    qtbot.keyClick(view, Qt.Key.Key_Left)  # the newest child of v1
    assert view.current_version_id() == v3
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.current_version_id() == v4
    assert {v1, v4} < {model.graph_row(r).version.id for r in range(4)}


def test_selecting_in_the_table_moves_the_graph_and_a_new_label_shows(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    prompt_id, (v1, _v2, _v3, _v4) = _seed(db)
    _show_graph(qtbot, pane, prompt_id)
    with qtbot.waitSignal(pane.graphShown, timeout=TIMEOUT):
        pane.select_versions(v1)
    assert pane.graph.view.current_version_id() == v1
    db.call(library.set_label, prompt_id, "best", v1)
    with qtbot.waitSignal(pane.graphShown, timeout=TIMEOUT):
        pane.refresh()
    model = pane.graph.view.graph_model
    assert "labels best" in str(model.index(3).data())
    assert pane.graph.view.current_version_id() == v1


def test_lanes_free_up_and_a_parent_beyond_the_page_keeps_its_line() -> None:
    def version(vid: int, parent: int | None) -> VersionSummary:
        return VersionSummary(vid, 1, vid, parent, "save", "", "", (), 0, 0, None, None)

    # 6 and 5 branch off 4; 3's parent (2) is not in the page.
    rows = lay_out([version(6, 4), version(5, 4), version(4, 3), version(3, 2)])
    assert [(r.lane, r.below) for r in rows] == [(0, (0,)), (1, (0, 1)), (0, (0,)), (0, (0,))]
    assert rows[2].joins == (1,)
    assert [r.branched_from for r in rows] == [4, None, None, None]  # 3's parent: not shown


def _has_colour(image: QImage, colour: QColor) -> bool:
    for y in range(0, image.height(), 2):
        for x in range(0, min(image.width(), 80)):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - colour.red())
                + abs(pixel.green() - colour.green())
                + abs(pixel.blue() - colour.blue())
                < 30
            ):
                return True
    return False
