"""The search box over a real library: hits with highlighted, escaped snippets; Enter; Esc."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from promptstudio.evals.results import DONE, CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.evals.store import save_run
from promptstudio.storage import Database, library
from promptstudio.storage.ratings import BAD, Rating, rate_eval_cell
from promptstudio.ui.library.library_pane import LibraryPane
from promptstudio.ui.library.search_results import (
    BADGE_ROLE,
    HTML_ROLE,
    KIND_ROLE,
    MARK_CLOSE,
    MARK_OPEN,
    SNIPPET_HTML_ROLE,
    highlighted_html,
)
from tests.storage.helpers import respond
from tests.ui.conftest import owned_widget


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "library.sqlite3")
    yield database
    database.close()


@pytest.fixture
def ids(db: Database) -> dict[str, int]:
    agent = db.call(library.create_prompt, "Support agent", "Support")
    version = db.call(
        library.save_version, agent.id, "Use <b>bold</b> for the product name.", {}, {}
    )
    answer = respond(
        db, version.id, "Your refund was sent yesterday; it should arrive within 3 days."
    )
    translator = db.call(library.create_prompt, "Translator")
    other = db.call(library.save_version, translator.id, "Translate into French.", {}, {})
    respond(db, other.id, "Bonjour tout le monde")
    return {
        "agent": agent.id,
        "agent_v1": version.id,
        "agent_answer": answer.id,
        "translator": translator.id,
    }


@pytest.fixture
def pane(qtbot, qloop, db: Database, ids: dict[str, int]) -> Iterator[LibraryPane]:
    with owned_widget(qtbot, lambda tasks: LibraryPane(db, tasks)) as widget:
        widget.resize(320, 520)
        widget.show()
        with qtbot.waitSignal(widget.model.loaded, timeout=5000):
            widget.refresh()
        yield widget


def search(qtbot, pane: LibraryPane, text: str) -> int:
    """Type ``text`` into the search box; returns how many hits were shown."""
    pane.search.setFocus()
    with qtbot.waitSignal(pane.results.hitsShown, timeout=5000) as shown:
        qtbot.keyClicks(pane.search, text)
    return int(shown.args[0])


def test_a_word_in_one_answer_gives_one_highlighted_response_hit(qtbot, pane, ids) -> None:
    assert search(qtbot, pane, "refund") == 1
    assert pane.is_searching() and pane.stack.currentWidget() is pane.results
    index = pane.results.model.index(0, 0)
    assert index.data(KIND_ROLE) == "response"
    assert index.data(BADGE_ROLE) == "answer · v1"
    snippet = index.data(SNIPPET_HTML_ROLE)
    assert snippet.startswith(f"Your {MARK_OPEN}refund{MARK_CLOSE} was sent yesterday")
    painted = pane.results.delegate.html(index)  # what the delegate paints
    assert "<b>Support agent</b>" in painted and snippet in painted
    assert pane.results.status.text() == "1 match"


def test_html_in_a_snippet_is_shown_as_text(qtbot, pane) -> None:
    assert search(qtbot, pane, "bold") == 1
    index = pane.results.model.index(0, 0)
    assert index.data(KIND_ROLE) == "version" and index.data(BADGE_ROLE) == "template v1"
    snippet = index.data(SNIPPET_HTML_ROLE)
    assert snippet == f"Use &lt;b&gt;{MARK_OPEN}bold{MARK_CLOSE}&lt;/b&gt; for the product name."
    assert "<b>bold" not in index.data(HTML_ROLE)


def test_highlighting_escapes_each_piece() -> None:
    assert highlighted_html("a<i>b & c", [(1, 4)], "[", "]") == "a[&lt;i&gt;]b &amp; c"


def test_enter_opens_the_hit(qtbot, pane, ids) -> None:
    search(qtbot, pane, "refund")
    with qtbot.waitSignal(pane.matchRequested, timeout=2000) as requested:
        qtbot.keyClick(pane.search, Qt.Key.Key_Return)
    assert requested.args == [ids["agent"], ids["agent_v1"], ids["agent_answer"]]

    pane.search.clear()
    search(qtbot, pane, "translat")  # the name first, then the template
    kinds = [pane.results.model.index(r, 0).data(KIND_ROLE) for r in range(2)]
    assert kinds == ["prompt", "version"]
    qtbot.keyClick(pane.search, Qt.Key.Key_Down)
    assert pane.results.list.hasFocus()
    with qtbot.waitSignal(pane.promptSelected, timeout=2000) as selected:
        qtbot.keyClick(pane.results.list, Qt.Key.Key_Return)
    assert selected.args == [ids["translator"]]
    # The opened prompt is also selected in the tree, quietly, for when the search closes.
    qtbot.waitUntil(lambda: pane.tree.currentIndex().data() == "Translator")


def test_esc_clears_the_search_and_shows_the_tree(qtbot, pane) -> None:
    search(qtbot, pane, "refund")
    qtbot.keyClick(pane.search, Qt.Key.Key_Escape)
    assert pane.search.text() == ""
    assert not pane.is_searching() and pane.stack.currentWidget() is pane.tree


def test_no_matches_says_so(qtbot, pane) -> None:
    assert search(qtbot, pane, "xylophone") == 0
    assert pane.results.status.text() == "No matches"
    assert not pane.results.list.isVisible() and not pane.results.preview.isVisible()


def test_typing_fast_runs_one_search(qtbot, pane, monkeypatch) -> None:
    queries: list[str] = []
    real = library.search

    def counting(conn, query, **kwargs):
        queries.append(query)
        return real(conn, query, **kwargs)

    monkeypatch.setattr(library, "search", counting)
    search(qtbot, pane, "bonjour")
    assert queries == ["bonjour"]


def test_a_click_previews_the_match_and_opens_nothing(qtbot, pane, db, ids) -> None:
    """One click shows the whole answer, read-only, every match highlighted; only Enter,
    a double-click or a button opens anything (issue 14, point 25)."""
    second = db.call(library.save_version, ids["agent"], "Answer kindly.", {}, {})
    long_answer = "Intro line.\n" + "filler text " * 40 + "\nThe refund <i>is</i> late.\nBye."
    newest = respond(db, second.id, long_answer)
    assert search(qtbot, pane, "refund") == 2  # two answers with the word: two hits
    results = pane.results
    opened: list[object] = []
    for signal in (pane.promptSelected, pane.versionRequested, pane.matchRequested):
        signal.connect(lambda *args: opened.append(args))
    qtbot.waitUntil(lambda: results.preview.toPlainText() == long_answer, timeout=5000)
    hit = results.current_hit()
    assert hit is not None and hit.response_id == newest.id
    older = results.model.index(1, 0)
    rect = results.list.visualRect(older)
    qtbot.mouseClick(results.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    first = "Your refund was sent yesterday; it should arrive within 3 days."
    qtbot.waitUntil(lambda: results.preview.toPlainText() == first, timeout=5000)
    assert results.preview.isReadOnly()
    assert f"{MARK_OPEN}refund{MARK_CLOSE}" in highlighted_html(first, [(5, 11)])
    assert "background-color:#ffd75e" in results.preview.toHtml()
    assert "answer · v1" in results.preview_title.text()
    qtbot.mouseClick(results.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=results.list.visualRect(results.model.index(0, 0)).center())  # fmt: skip
    qtbot.waitUntil(lambda: results.preview.toPlainText() == long_answer, timeout=5000)
    assert "<i>" in results.preview.toPlainText()  # HTML in an answer stays text
    assert opened == []
    with qtbot.waitSignal(pane.versionRequested, timeout=2000) as requested:
        results.editor_button.click()
    assert requested.args == [ids["agent"], second.id]
    with qtbot.waitSignal(pane.matchRequested, timeout=2000) as requested:
        results.history_button.click()
    assert requested.args == [ids["agent"], second.id, newest.id]


def test_a_note_on_an_evaluation_cell_is_found_and_previewed(qtbot, pane, db, ids) -> None:
    run = EvalRun(
        columns=(EvalColumn("a", "m", "m", "http://x/v1", {}),),
        cases=(EvalCase("c1", 0, {}),),
    )
    run.cells[("c1", "a")] = CellResult("c1", "a", DONE, text="Refunds take a week.")
    saved = db.call(save_run, ids["agent_v1"], run)
    assert saved.id is not None
    db.call(rate_eval_cell, saved.id, "c1", "a", Rating(BAD, "promised the wrong delay"))
    assert search(qtbot, pane, "wrong delay") == 1
    index = pane.results.model.index(0, 0)
    assert index.data(KIND_ROLE) == "eval_cell"
    assert index.data(BADGE_ROLE) == "evaluation note · v1"
    results = pane.results
    qtbot.waitUntil(lambda: "Refunds take a week." in results.preview.toPlainText(), timeout=5000)
    assert results.preview.toPlainText().startswith("note: promised the wrong delay")
    pane.results.list.setFocus()
    with qtbot.waitSignal(pane.evaluationRequested, timeout=2000) as requested:
        qtbot.keyClick(pane.results.list, Qt.Key.Key_Return)
    assert requested.args == [ids["agent"], saved.id]  # the evaluation the cell is in
