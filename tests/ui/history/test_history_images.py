"""History's diff says which image a version changed (name, size, hash), never its bytes."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from promptstudio.images import image_from_bytes
from promptstudio.storage import Database, library
from promptstudio.ui.history.history_pane import HistoryPane
from tests.images import GIF, png
from tests.ui.history.test_history_pane import db, open_prompt, pane, tasks

__all__ = ["db", "pane", "tasks"]  # fixtures


def test_the_diff_names_the_image_that_changed(
    qtbot: QtBot, db: Database, pane: HistoryPane
) -> None:
    template = "Describe ![photo]({{ photo }})"
    prompt = db.call(library.create_prompt, "Describe")
    first = image_from_bytes(png(), "photo", "/pics/cat.png", what="cat")
    second = image_from_bytes(GIF, "photo", "/pics/cat.gif", what="cat")
    db.call(library.save_version, prompt.id, template, {"photo": "/pics/cat.png"}, {},
            images=[first])  # fmt: skip
    db.call(library.save_version, prompt.id, template, {"photo": "/pics/cat.gif"}, {},
            images=[second])  # fmt: skip
    open_prompt(qtbot, pane, prompt.id)
    left, right = pane.diff.left.toPlainText(), pane.diff.right.toPlainText()
    assert (
        f"image photo: /pics/cat.png (PNG, {len(png()):,} bytes, sha256 {first.sha256[:12]})"
        in left
    )
    assert (
        f"image photo: /pics/cat.gif (GIF, {len(GIF)} bytes, sha256 {second.sha256[:12]})" in right
    )
    assert pane.diff.changes() == 1
    assert len(right) < 200  # no bytes inlined
