"""Quick open (Ctrl+P): every prompt, narrowed by fuzzy-ish matching, best first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from promptstudio.storage import Database, library
from promptstudio.ui.library.quick_open import QuickOpen, fuzzy_match
from promptstudio.ui.library.search_results import HTML_ROLE
from tests.ui.conftest import owned_widget


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "library.sqlite3")
    yield database
    database.close()


@pytest.fixture
def ids(db: Database) -> dict[str, int]:
    names = {
        "support": ("Support agent", "Support"),
        "word": ("Word problem: step by step", ""),
        "spam": ("Spam filter test", "Experiments"),
        "intent": ("Intent classifier", ""),
        "refund": ("Refund reply", "Support/Billing"),
    }
    found = {
        key: db.call(library.create_prompt, name, folder).id
        for key, (name, folder) in names.items()
    }
    gone = db.call(library.create_prompt, "Spt in the trash")
    db.call(library.trash_prompt, gone.id)
    return found


@pytest.fixture
def dialog(qtbot, qloop, db: Database, ids: dict[str, int]) -> Iterator[QuickOpen]:
    with owned_widget(qtbot, lambda tasks: QuickOpen(db, tasks)) as widget:
        with qtbot.waitSignal(widget.loaded, timeout=5000):
            widget.open()
        yield widget


def test_lists_every_prompt_outside_the_trash_by_name(dialog: QuickOpen) -> None:
    assert dialog.visible_names() == [
        "Intent classifier",
        "Refund reply",
        "Spam filter test",
        "Support agent",
        "Word problem: step by step",
    ]
    assert "Support/Billing" in dialog.model.index(1, 0).data(HTML_ROLE)


def test_spt_ranks_support_agent_first_and_enter_chooses_it(qtbot, dialog, ids) -> None:
    qtbot.keyClicks(dialog.filter, "spt")
    assert dialog.visible_names() == [
        "Support agent",  # s-p-t closest together
        "Spam filter test",
        "Word problem: step by step",
        "Refund reply",  # only its folder, Support/Billing, matches
    ]
    assert dialog.model.index(0, 0).data(HTML_ROLE).startswith("<b><u>S</u></b>u<b><u>p</u></b>")
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Up)
    with qtbot.waitSignal(dialog.promptChosen, timeout=2000) as chosen:
        qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert chosen.args == [ids["support"]]
    assert not dialog.isVisible()


def test_down_moves_the_choice(qtbot, dialog, ids) -> None:
    qtbot.keyClicks(dialog.filter, "re")
    assert dialog.visible_names()[:2] == ["Refund reply", "Spam filter test"]
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Down)
    with qtbot.waitSignal(dialog.promptChosen, timeout=2000) as chosen:
        qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert chosen.args == [ids["spam"]]


def test_esc_closes_and_a_reopen_starts_empty(qtbot, dialog) -> None:
    qtbot.keyClicks(dialog.filter, "zzz")
    assert dialog.visible_names() == []
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    with qtbot.waitSignal(dialog.loaded, timeout=5000):
        dialog.open()
    assert dialog.filter.text() == "" and len(dialog.visible_names()) == 5


def test_ranking_prefix_then_word_start_then_inside_then_scattered() -> None:
    def rank(query: str, name: str, folder: str = "") -> tuple[int, ...]:
        match = fuzzy_match(query, name, folder)
        assert match is not None, name
        return match.rank

    prefix = rank("sum", "Summarise")
    word = rank("sum", "Quick summary")
    inside = rank("sum", "Consumer letter")
    scattered = rank("sum", "Status update mail")
    in_folder = rank("bill", "Refund reply", "Support/Billing")
    assert prefix < word < inside < scattered < in_folder
    assert fuzzy_match("SUM", "quick summary") is not None  # case does not matter
    assert fuzzy_match("mus", "Summarise") is None  # order does
    assert fuzzy_match("Spt", "Support agent") == fuzzy_match("spt", "Support agent")
