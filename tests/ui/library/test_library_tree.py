"""The library tree over a real library file: lazy folders, rename, move, stars, tags, trash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QMessageBox

from promptstudio.storage import Database, library
from promptstudio.ui.library.library_model import (
    FOLDER_ROLE,
    MIME_TYPE,
    NODE_KIND_ROLE,
    PROMPT_ID_ROLE,
    STARRED_ROLE,
    LibraryModel,
)
from promptstudio.ui.library.library_pane import LibraryPane
from tests.ui.conftest import owned_widget


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "library.sqlite3")
    yield database
    database.close()


@pytest.fixture
def ids(db: Database) -> dict[str, int]:
    """Support (Billing inside), Experiments, one prompt at the top level, one in the trash."""

    def add(name: str, folder: str = "", tags: tuple[str, ...] = ()) -> int:
        prompt = db.call(library.create_prompt, name, folder)
        db.call(library.set_tags, prompt.id, tags)
        return prompt.id

    found = {
        "agent": add("Support agent", "Support", ("support", "chat")),
        "refund": add("Refund reply", "Support/Billing", ("support",)),
        "invoice": add("Invoice to JSON", "Support/Billing", ("json",)),
        "haiku": add("Haiku", "Experiments"),
        "scratch": add("Scratch"),
        "old": add("Old idea", "Experiments"),
    }
    db.call(library.set_starred, found["invoice"], True)
    db.call(library.trash_prompt, found["old"])
    return found


@pytest.fixture
def pane(qtbot, qloop, db: Database, ids: dict[str, int]) -> Iterator[LibraryPane]:
    with owned_widget(qtbot, lambda tasks: LibraryPane(db, tasks)) as widget:
        widget.resize(320, 520)
        widget.show()
        with qtbot.waitSignal(widget.model.loaded, timeout=5000):
            widget.refresh()
        yield widget


def names(model: LibraryModel, parent: QModelIndex | None = None) -> list[str]:
    parent = parent or QModelIndex()
    return [model.index(row, 0, parent).data() for row in range(model.rowCount(parent))]


def child(model: LibraryModel, text: str, parent: QModelIndex | None = None) -> QModelIndex:
    parent = parent or QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if index.data(Qt.ItemDataRole.EditRole) == text:
            return index
    raise AssertionError(f"{text!r} not in {names(model, parent)}")


def expand(qtbot, pane: LibraryPane, index: QModelIndex) -> None:
    """Expand like a click on the arrow, waiting for the folder's prompts to arrive."""
    with qtbot.waitSignal(pane.model.fetched, timeout=5000):
        pane.tree.expand(index)


def wait_write(qtbot, pane: LibraryPane):
    return qtbot.waitSignal(pane.model.changed, timeout=5000)


def test_the_tree_shows_starred_folders_prompts_and_trash(pane: LibraryPane) -> None:
    model = pane.model
    assert names(model) == ["Starred", "Experiments", "Support", "Scratch", "Trash (1)"]
    kinds = [model.index(r, 0).data(NODE_KIND_ROLE) for r in range(model.rowCount())]
    assert kinds == ["starred", "folder", "folder", "prompt", "trash"]
    assert names(model, child(model, "Starred")) == ["Invoice to JSON"]
    scratch = child(model, "Scratch")
    assert "Folder: (top level)" in scratch.data(Qt.ItemDataRole.ToolTipRole)
    assert "Edited " in scratch.data(Qt.ItemDataRole.ToolTipRole)


def test_a_folder_reads_its_prompts_when_expanded(qtbot, pane: LibraryPane, ids) -> None:
    model = pane.model
    support = child(model, "Support")
    assert names(model, support) == ["Billing"]  # subfolders are known, prompts not yet read
    assert model.canFetchMore(support) and model.hasChildren(support)
    expand(qtbot, pane, support)
    assert names(model, support) == ["Billing", "Support agent"]
    assert not model.canFetchMore(support)
    agent = child(model, "Support agent", support)
    assert agent.data(PROMPT_ID_ROLE) == ids["agent"]
    assert agent.data(NODE_KIND_ROLE) == "prompt"
    assert agent.data(FOLDER_ROLE) == "Support"
    tooltip = agent.data(Qt.ItemDataRole.ToolTipRole)
    assert "Folder: Support" in tooltip and "Tags: chat, support" in tooltip
    billing = child(model, "Billing", support)
    expand(qtbot, pane, billing)
    assert names(model, billing) == ["Invoice to JSON", "Refund reply"]


def test_rename_a_prompt_and_a_folder_through_the_model(qtbot, pane: LibraryPane, db, ids) -> None:
    model = pane.model
    support = child(model, "Support")
    expand(qtbot, pane, support)
    agent = child(model, "Support agent", support)
    pane.tree.setCurrentIndex(agent)
    with wait_write(qtbot, pane), qtbot.waitSignal(pane.promptRenamed) as renamed:
        assert model.setData(agent, "  Support bot ")
    assert renamed.args == [ids["agent"], "Support bot"]
    assert db.call(library.get_prompt, ids["agent"]).name == "Support bot"
    assert pane.tree.currentIndex().data() == "Support bot"

    with wait_write(qtbot, pane):
        assert model.setData(child(model, "Support"), "Help")
    assert db.call(library.list_folders) == ["Experiments", "Help", "Help/Billing"]
    help_folder = child(model, "Help")
    assert pane.tree.isExpanded(help_folder)  # the expansion followed the rename
    assert names(model, help_folder) == ["Billing", "Support bot"]
    assert pane.tree.currentIndex().data(PROMPT_ID_ROLE) == ids["agent"]


def test_a_dropped_prompt_moves_into_the_folder(qtbot, pane: LibraryPane, db, ids) -> None:
    model = pane.model
    experiments = child(model, "Experiments")
    expand(qtbot, pane, experiments)
    scratch = child(model, "Scratch")
    pane.tree.setCurrentIndex(scratch)
    mime = model.mimeData([scratch])
    assert MIME_TYPE in mime.formats()
    assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, experiments)
    with wait_write(qtbot, pane):
        assert model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, experiments)
    assert db.call(library.get_prompt, ids["scratch"]).folder == "Experiments"
    experiments = child(model, "Experiments")
    assert names(model, experiments) == ["Haiku", "Scratch"]
    assert "Scratch" not in names(model)
    assert pane.tree.currentIndex().data(PROMPT_ID_ROLE) == ids["scratch"]  # selection followed

    haiku = model.mimeData([child(model, "Haiku", experiments)])
    with wait_write(qtbot, pane), qtbot.waitSignal(pane.promptTrashed) as trashed:  # onto Trash
        assert model.dropMimeData(haiku, Qt.DropAction.MoveAction, -1, -1, model.trash_index())
    assert trashed.args == [ids["haiku"]]
    assert db.call(library.get_prompt, ids["haiku"]).trashed_at is not None
    assert names(model)[-1] == "Trash (2)"


def test_refresh_keeps_expansion_and_selection(qtbot, pane: LibraryPane, db, ids) -> None:
    model = pane.model
    support = child(model, "Support")
    expand(qtbot, pane, support)
    pane.tree.setCurrentIndex(child(model, "Support agent", support))
    db.call(library.create_prompt, "Added elsewhere", "Support")
    with qtbot.waitSignal(model.loaded, timeout=5000):
        pane.refresh()
    support = child(model, "Support")
    assert pane.tree.isExpanded(support)
    assert names(model, support) == ["Billing", "Added elsewhere", "Support agent"]
    assert pane.tree.currentIndex().data(PROMPT_ID_ROLE) == ids["agent"]


def test_new_prompt_goes_into_the_selected_folder_and_its_name_is_edited(qtbot, pane, db) -> None:
    experiments = child(pane.model, "Experiments")
    pane.tree.setCurrentIndex(experiments)
    with qtbot.waitSignal(pane.promptCreated, timeout=5000) as created:
        pane.tree_actions.new_prompt()
    prompt = db.call(library.get_prompt, created.args[0])
    assert (prompt.name, prompt.folder) == ("Untitled 1", "Experiments")
    qtbot.waitUntil(lambda: pane.tree.state() == QAbstractItemView.State.EditingState)
    assert pane.tree.currentIndex().data(PROMPT_ID_ROLE) == prompt.id


def test_new_folder_from_its_dialog(qtbot, pane: LibraryPane, db) -> None:
    dialog = pane.menu.ask_new_folder("Support")
    assert dialog.isVisible()  # open(): shown without a nested event loop
    dialog.setTextValue("Drafts")
    with wait_write(qtbot, pane):
        dialog.accept()
    assert "Support/Drafts" in db.call(library.list_folders)
    assert pane.tree.currentIndex().data(FOLDER_ROLE) == "Support/Drafts"


def test_duplicate_selects_the_copy(qtbot, pane: LibraryPane, db, ids) -> None:
    with qtbot.waitSignal(pane.promptCreated, timeout=5000) as created:
        pane.tree_actions.duplicate(ids["agent"])
    copy = db.call(library.get_prompt, created.args[0])
    assert (copy.name, copy.folder, copy.tags) == (
        "Support agent (copy)",
        "Support",
        ("chat", "support"),
    )
    qtbot.waitUntil(lambda: pane.tree.currentIndex().data(PROMPT_ID_ROLE) == copy.id)
    assert pane.tree.isExpanded(child(pane.model, "Support"))


def test_star_and_unstar(qtbot, pane: LibraryPane, db, ids) -> None:
    model = pane.model
    with wait_write(qtbot, pane):
        pane.tree_actions.set_starred(ids["scratch"], True)
    assert names(model, child(model, "Starred")) == ["Invoice to JSON", "Scratch"]
    assert child(model, "Scratch").data(STARRED_ROLE) is True
    menu = pane.menu.menu_for(child(model, "Scratch"))
    assert "Unstar" in [action.text() for action in menu.actions()]
    menu.close()
    with wait_write(qtbot, pane):
        pane.tree_actions.set_starred(ids["scratch"], False)
    with wait_write(qtbot, pane):
        pane.tree_actions.set_starred(ids["invoice"], False)
    assert "Starred" not in names(model)  # shown only while something is starred


def test_tags_dialog_and_tag_filter(qtbot, pane: LibraryPane, db, ids) -> None:
    model = pane.model
    qtbot.waitUntil(lambda: pane.tags.count() == 4)
    assert [pane.tags.itemText(i) for i in range(4)] == [
        "All tags",
        "chat (1)",
        "json (1)",
        "support (2)",
    ]
    prompt = db.call(library.get_prompt, ids["haiku"])
    dialog = pane.menu.ask_tags(prompt)
    dialog.setTextValue("poetry, support, ")
    with wait_write(qtbot, pane):
        dialog.accept()
    assert db.call(library.get_prompt, ids["haiku"]).tags == ("poetry", "support")
    qtbot.waitUntil(lambda: pane.tags.findData("poetry") > 0)

    with qtbot.waitSignal(model.loaded, timeout=5000):
        pane.tags.setCurrentIndex(pane.tags.findData("support"))
    assert names(model) == ["Experiments", "Support", "Trash"]  # Scratch and Starred: no match
    support = child(model, "Support")
    assert pane.tree.isExpanded(support)
    assert names(model, support) == ["Billing", "Support agent"]
    assert names(model, child(model, "Billing", support)) == ["Refund reply"]
    assert names(model, child(model, "Experiments")) == ["Haiku"]

    with qtbot.waitSignal(model.loaded, timeout=5000):
        pane.tags.setCurrentIndex(0)
    assert "Scratch" in names(model)
    # Folders left open by the filter read their prompts again, now unfiltered.
    assert pane.tree.isExpanded(child(model, "Experiments"))
    qtbot.waitUntil(lambda: names(model, child(model, "Experiments")) == ["Haiku"])


def test_move_to_folder_dialog(qtbot, pane: LibraryPane, db, ids) -> None:
    dialog = pane.menu.ask_move(db.call(library.get_prompt, ids["scratch"]))
    assert dialog.isVisible()
    assert dialog.comboBoxItems() == ["(Top level)", "Experiments", "Support", "Support/Billing"]
    dialog.setTextValue("Support/Billing")
    with wait_write(qtbot, pane):
        dialog.accept()
    assert db.call(library.get_prompt, ids["scratch"]).folder == "Support/Billing"
    qtbot.waitUntil(lambda: pane.tree.currentIndex().data(PROMPT_ID_ROLE) == ids["scratch"])


def test_trash_restore_delete_forever_and_empty(qtbot, pane: LibraryPane, db, ids) -> None:
    model = pane.model
    pane.tree.setFocus()
    pane.tree.setCurrentIndex(child(model, "Scratch"))
    with wait_write(qtbot, pane), qtbot.waitSignal(pane.statusMessage) as said:
        qtbot.keyClick(pane.tree, Qt.Key.Key_Delete)
    assert said.args[0] == "Moved “Scratch” to the trash"
    assert names(model)[-1] == "Trash (2)"
    expand(qtbot, pane, model.trash_index())
    assert names(model, model.trash_index()) == ["Scratch", "Old idea"]  # newest first
    scratch = child(model, "Scratch", model.trash_index())
    assert scratch.data(NODE_KIND_ROLE) == "trashed"

    menu = pane.menu.menu_for(scratch)
    texts = [action.text() for action in menu.actions() if action.text()]
    assert texts == ["Restore", "Delete forever…", "Empty trash…"]
    with wait_write(qtbot, pane):
        menu.actions()[0].trigger()
    menu.close()
    assert db.call(library.get_prompt, ids["scratch"]).trashed_at is None
    assert "Scratch" in names(model) and names(model)[-1] == "Trash (1)"

    with wait_write(qtbot, pane):
        pane.tree_actions.trash(ids["haiku"])
    box = pane.menu.ask_delete_forever(ids["haiku"])
    assert "“Haiku” for good" in box.text()
    with wait_write(qtbot, pane):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert db.call(library.count_prompts, include_trashed=True) == 5

    empty = pane.menu.ask_empty_trash()
    assert empty is not None and empty.isVisible()
    assert "Delete the 1 prompt in the trash for good?" in empty.text()
    with wait_write(qtbot, pane), qtbot.waitSignal(pane.statusMessage) as said:
        empty.button(QMessageBox.StandardButton.Yes).click()
    assert said.args[0] == "Emptied the trash: 1 prompt deleted for good"
    assert db.call(library.list_trash) == []
    assert names(model)[-1] == "Trash"
    assert names(model, model.trash_index()) == []


def test_cancel_keeps_the_trash(qtbot, pane: LibraryPane, db) -> None:
    box = pane.menu.ask_empty_trash()
    assert box is not None
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(50)
    assert len(db.call(library.list_trash)) == 1


def test_context_menus(pane: LibraryPane) -> None:
    model = pane.model

    def texts(index: QModelIndex) -> list[str]:
        menu = pane.menu.menu_for(index)
        found = [action.text() for action in menu.actions() if not action.isSeparator()]
        menu.close()
        return found

    assert texts(child(model, "Scratch")) == [
        "Rename",
        "Duplicate",
        "Move to folder…",
        "Star",
        "Tags…",
        "Move to trash",
    ]
    folder = ["New prompt", "New folder…", "Rename", "Delete folder"]
    assert texts(child(model, "Support")) == folder
    assert texts(QModelIndex()) == ["New prompt", "New folder…"]
    assert texts(model.trash_index()) == ["Empty trash…"]


def test_the_model_passes_qts_model_tester(qtbot, qtmodeltester, pane, db, ids) -> None:
    """Qt's QAbstractItemModelTester re-checks the model after every signal below."""
    model = pane.model
    qtmodeltester.check(model)
    pane.tree.expand(child(model, "Experiments"))
    with wait_write(qtbot, pane):
        model.setData(child(model, "Support"), "Help")
    with wait_write(qtbot, pane):
        pane.tree_actions.trash(ids["scratch"])
    pane.tree.expand(model.trash_index())  # the tester may have fetched it already
    qtbot.waitUntil(lambda: model.rowCount(model.trash_index()) == 2)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.set_tag_filter("support")
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.set_tag_filter(None)
    with wait_write(qtbot, pane):
        pane.tree_actions.empty_trash()
