"""Huge templates stay usable: capped variables form, analysis off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from promptstudio.credentials import KeyStore
from promptstudio.ui.editor.analysis import INLINE_ANALYSIS_CHARS
from promptstudio.ui.editor.variables_form import MAX_FIELDS, VariablesForm
from promptstudio.ui.main_window import MainWindow
from tests.ui.conftest import new_prompt


def test_thousands_of_variables_show_a_capped_form_with_a_filter(qtbot) -> None:
    form = VariablesForm()
    qtbot.addWidget(form)
    form.show()
    names = [f"v{n}" for n in range(3000)]
    form.set_names(names)
    assert form.shown_names() == names[:MAX_FIELDS]
    assert form.filter.isVisible() and form.more.isVisible()
    assert "2,800 more variables" in form.more.text()
    form.set_value("v2999", "kept")
    form.filter.setText("v2999")
    assert form.shown_names() == ["v2999"]
    assert form.field("v2999").editor.toPlainText() == "kept"
    form.field("v2999").editor.setPlainText("edited")
    form.filter.clear()
    assert form.values()["v2999"] == "edited"
    assert len(form.values()) == 3000
    form.set_names(["a", "b"])
    assert not form.filter.isVisible() and not form.more.isVisible()


def test_a_huge_template_is_analysed_in_the_background(window, qtbot) -> None:
    new_prompt(qtbot, window)
    body = "".join(f"user:\nLine {n} mentions {{{{ name_{n % 500} }}}}.\n" for n in range(4000))
    assert len(body) > INLINE_ANALYSIS_CHARS
    workspace = window.workspace
    with qtbot.waitSignal(workspace.analysed, timeout=60_000):
        window.editor.setPlainText(body)
        workspace.analyse()  # what the debounce timer does: returns at once
        assert workspace.tasks.is_running("analysis")
    assert len(window.variables.names()) == 500
    window.editor.setPlainText(body + "user:\n{{ late_one }}\n")
    workspace.flush_analysis()  # a run or a save waits for the current text's names
    assert "late_one" in window.variables.names()


def test_the_window_paints_before_it_is_built(qtbot, qloop, isolated_home: Path) -> None:
    from promptstudio.paths import data_dir
    from promptstudio.ui.app import open_library

    home = data_dir(isolated_home)
    main = MainWindow(None, None, home)
    qtbot.addWidget(main)
    main.show()
    assert not main.built
    central = main.centralWidget()
    assert central is not None and central.objectName() == "startingUp"
    db = open_library(home)
    main.build(db, KeyStore())
    assert main.built and main.centralWidget() is main.splitter
    with qtbot.waitSignal(main.workspace.promptOpened, timeout=5000):
        main.start()
    main.close()
    db.close()


def test_opening_a_huge_prompt_does_not_mark_it_unsaved(window, qtbot) -> None:
    from promptstudio.storage import library

    body = "".join(f"user:\nLine {n} mentions {{{{ name_{n % 50} }}}}.\n" for n in range(4000))
    db = window.workspace.db
    prompt = db.call(library.create_prompt, "Huge")
    db.call(library.save_version, prompt.id, body, {"name_1": "one"}, {})
    with qtbot.waitSignal(window.workspace.analysed, timeout=60_000):
        window.workspace.open_prompt(prompt.id)
    assert window.workspace.prompt_id == prompt.id
    assert window.variables.values()["name_1"] == "one"
    assert not window.workspace.dirty


def test_a_long_prompt_opens_without_waiting_for_its_analysis(window, qtbot) -> None:
    """Opening puts the whole text in at once: from OPENED_INLINE_CHARS on it is read on the
    worker (the window shows the prompt first; issue 21), and it is not marked unsaved."""
    from promptstudio.storage import library
    from promptstudio.ui.editor.analysis import OPENED_INLINE_CHARS

    body = "".join(f"user:\nLine {n} mentions {{{{ name_{n % 50} }}}}.\n" for n in range(1000))
    assert OPENED_INLINE_CHARS < len(body) < INLINE_ANALYSIS_CHARS
    db, workspace = window.workspace.db, window.workspace
    prompt = db.call(library.create_prompt, "Long")
    db.call(library.save_version, prompt.id, body, {"name_1": "one"}, {})
    with qtbot.waitSignal(workspace.promptOpened, timeout=5000):
        workspace.open_prompt(prompt.id)
    assert workspace.tasks.is_running("analysis")  # the title is there, the names follow
    qtbot.waitUntil(lambda: len(window.variables.names()) == 50, timeout=30_000)
    assert window.variables.values()["name_1"] == "one"
    assert not workspace.dirty
    with qtbot.waitSignal(workspace.analysed, timeout=5000):  # typing: still read at once
        window.editor.setPlainText(body + "user:\n{{ typed }}\n")
        workspace.analyse()
        assert not workspace.tasks.is_running("analysis")
    assert "typed" in window.variables.names()
