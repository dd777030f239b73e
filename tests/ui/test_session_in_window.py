"""The window mirrors the session model: what is typed goes into it, what is opened comes
from it, and the flows read it (not the widgets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from promptstudio.credentials import KeyStore
from promptstudio.paths import data_dir
from promptstudio.providers.pricing import PriceTable
from promptstudio.runs.columns import ColumnConfig, RunDefaults, run_target
from promptstudio.runs.limits import ServerLimits
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Content, Session, Source
from promptstudio.storage import library
from promptstudio.storage.library import VersionRow
from promptstudio.ui.app import open_library
from promptstudio.ui.evaluate.eval_flow import EvalFlow, EvalServices
from promptstudio.ui.evaluate.eval_pane import EvalPane
from promptstudio.ui.main_window import MainWindow
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt, type_text


def test_what_is_typed_goes_into_the_session_at_once(window: MainWindow, qtbot) -> None:
    new_prompt(qtbot, window)
    session = window.workspace.session
    assert session.prompt_id == window.workspace.prompt_id and not session.dirty
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        type_text(qtbot, window.editor, "user:\nTell me about {{ topic }}")
    assert session.template == "user:\nTell me about {{ topic }}"
    assert session.names == ["topic"] and session.dirty
    type_text(qtbot, window.variables.field("topic").editor, "owls")
    assert session.values == {"topic": "owls"}
    column = window.run_board.columns[0]
    column.set_target("http://127.0.0.1:9/v1", "picked-model")
    assert session.column(column.column_id) == column.config()
    assert [c.id for c in session.columns] == [c.column_id for c in window.run_board.columns]


def test_opening_a_version_writes_the_session_and_the_widgets_follow(
    window: MainWindow, qtbot
) -> None:
    db = window.workspace.db
    prompt = db.call(library.create_prompt, "Stored")
    column = ColumnConfig("http://127.0.0.1:9/v1", "stored-model", id="kept")
    settings = {"columns": [column.to_dict()]}
    version = db.call(library.save_version, prompt.id, "user:\n{{ a }}", {"a": "one"}, settings)
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000):
        window.workspace.open_prompt(prompt.id)
    session = window.workspace.session
    assert session.source == Source(prompt.id, version.id, version.number)
    assert session.content() == Content("user:\n{{ a }}", {"a": "one"}, (column,))
    assert not session.dirty and "•" not in window.windowTitle()
    assert window.editor.toPlainText() == "user:\n{{ a }}"
    assert window.variables.values() == {"a": "one"}
    assert [c.config() for c in window.run_board.columns] == [column]

    # The model drives the widgets: content put into the session shows at once.
    session.show(Content("user:\n{{ b }} and {{ a }}", {"a": "one", "b": "two"}))
    window.workspace.analyse()
    assert window.editor.toPlainText() == "user:\n{{ b }} and {{ a }}"
    assert window.variables.values() == {"b": "two", "a": "one"}
    assert session.values == {"b": "two", "a": "one"}
    assert window.run_board.columns[0].config() == column  # no columns: the board's kept
    assert session.dirty and window.windowTitle().endswith("•")


def test_a_restore_from_history_is_where_the_session_now_comes_from(
    window: MainWindow, qtbot
) -> None:
    prompt_id = new_prompt(qtbot, window)
    navigation = window.workspace.navigation
    for text in ("first", "second"):
        window.editor.setPlainText(text)
        with qtbot.waitSignal(navigation.versionsChanged, timeout=5000):
            window.registry["prompt.save"].trigger()
    first = window.workspace.db.call(library.get_version_by_number, prompt_id, 1)
    with qtbot.waitSignal(navigation.versionsChanged, timeout=5000):
        window.history.restoreRequested.emit(first.id)
    source = window.workspace.session.source
    assert (source.prompt_id, source.version_number) == (prompt_id, 3)
    assert window.workspace.session.template == "first"


def test_the_cases_table_is_the_sessions_case_set(window: MainWindow, qtbot) -> None:
    prompt_id = new_prompt(qtbot, window)
    session = window.workspace.session
    qtbot.waitUntil(lambda: window.eval_flow.prompt_id == prompt_id, timeout=5000)
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        window.evaluate.cases.model.add_case({"topic": "owls"})
    assert [case["vars"] for case in session.cases] == [{"topic": "owls"}]
    stored = window.workspace.db.call(library.list_cases, prompt_id)
    assert [case.get("id") for case in session.cases] == [stored[0].id]  # ids come back


def test_every_status_message_goes_through_one_notifier(window: MainWindow, qtbot) -> None:
    said: list[str] = []
    window.notifier.statusMessage.connect(said.append)
    window.library.statusMessage.emit("from the library")
    window.evaluate.cases.statusMessage.emit("from the cases")
    window.workspace.statusMessage.emit("from a flow")  # ExchangeFlow's way
    window.set_theme("light")
    assert said == ["from the library", "from the cases", "from a flow", "Theme: light"]
    assert window.statusBar().currentMessage() == "Theme: light"


def test_an_evaluation_runs_on_what_it_is_handed(
    qtbot, qloop, isolated_home: Path, fake_llm: FakeLLM
) -> None:
    """No window and no workspace: the session, the services and the pane are all it needs."""
    fake_llm.respond(lambda _model, body: Reply(text=body["messages"][-1]["content"][-1]))
    db = open_library(data_dir(isolated_home))
    prompt = db.call(library.create_prompt, "Echo")
    db.call(library.save_cases, prompt.id, [{"vars": {"n": "1"}}, {"vars": {"n": "2"}}])
    session = Session()
    session.open(Source(prompt.id))
    column = ColumnConfig(fake_llm.base_url, "echo", id="c1")
    session.show(Content("user:\nSay {{ n }}", {"n": ""}, (column,)))
    saved: list[VersionRow] = []

    async def save_for_run() -> VersionRow:
        version = await db.acall(library.save_version, prompt.id, *session.content().key())
        saved.append(version)
        return version

    worker, tasks, host = RunWorker(), TaskOwner(), QWidget()
    qtbot.addWidget(host)
    failures: list[BaseException] = []
    tasks.failed.connect(failures.append)
    notifier = StatusNotifier()
    said: list[str] = []
    notifier.statusMessage.connect(said.append)
    settings: dict[str, Any] = {
        "evaluate.local_limit": 1, "evaluate.remote_limit": 4, "evaluate.max_cost": None
    }  # fmt: skip
    flow = EvalFlow(
        EvalPane(host),
        EvalServices(
            session=session,
            db=db,
            worker=worker,
            notifier=notifier,
            run_target=lambda config: run_target(config, [], KeyStore(), RunDefaults()),
            save_for_run=save_for_run,
            check_template=lambda: None,
            prices=PriceTable.load,
            limits=ServerLimits(),
            setting=settings.__getitem__,
        ),
        tasks,
    )
    try:
        flow.open_prompt(prompt.id)
        qtbot.waitUntil(lambda: flow.prompt_id == prompt.id, timeout=5000)
        assert [case["vars"] for case in session.cases] == [{"n": "1"}, {"n": "2"}]
        with qtbot.waitSignal(flow.evaluated, timeout=20_000) as done:
            flow.run()
        run = done.args[0]
        answers = sorted(cell.text for cell in run.cells.values())
        assert answers == ["1", "2"] and not failures
        assert run.version_id == saved[0].id
        assert said and said[-1].startswith("Evaluated v1")
    finally:
        tasks.shutdown()
        worker.stop()
        db.close()


def test_a_huge_template_is_read_into_the_session_when_asked_for(window: MainWindow, qtbot) -> None:
    new_prompt(qtbot, window)
    session = window.workspace.session
    window.editor.setPlainText("user:\n" + "x" * 200_000)
    heard: list[str] = []
    session.events.template.connect(lambda change: heard.append(change.value))
    type_text(qtbot, window.editor, "y")
    assert heard == []  # not read out of the editor at every key
    assert session.template == window.editor.toPlainText()  # read when asked for
    assert len(heard) == 1 and session.dirty
    type_text(qtbot, window.editor, "z")
    qtbot.waitUntil(lambda: len(heard) == 2, timeout=3000)  # or after a short pause
    assert heard[-1] == window.editor.toPlainText()


def test_focus_the_variables_reaches_the_first_field_shown(window: MainWindow, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("user:\n" + " ".join(f"{{{{ v{n} }}}}" for n in range(300)))
    window.variables.filter.setText("v299")  # the first name is not on screen
    window.registry["view.variables"].trigger()  # Ctrl+2
    assert window.variables.field("v299").editor.hasFocus()
