"""First launch: the run board offers the servers and keys found, or says how to get one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea

from promptstudio.providers import ProviderProfile
from promptstudio.providers.probe import Candidate
from promptstudio.ui.board.first_launch import FirstLaunchPanel
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import closed_port

PROXY_KEY = "proxy-SENTINEL-first-launch-0123456789"


def _panel(window) -> FirstLaunchPanel:
    panel = window.run_board.findChild(FirstLaunchPanel)
    assert panel is not None
    return panel


def _offers(panel: FirstLaunchPanel) -> list[str]:
    return [button.text() for button in panel.buttons]


def test_a_found_server_becomes_the_column(window, qtbot, fake_llm: FakeLLM) -> None:
    fake_llm.models = ["gemma-3-270m", "qwen-0.5b"]
    offer = window.offer_first_launch([Candidate("Fake server", fake_llm.port),
                                       Candidate("Nobody", closed_port())])  # fmt: skip
    assert offer is not None
    panel = _panel(window)
    assert panel.isVisible() and "Looking" in panel.heading.text()
    qtbot.waitUntil(lambda: bool(panel.buttons), timeout=5000)
    assert _offers(panel) == ["Use Fake server (gemma-3-270m)"]
    assert all(b.accessibleName() for b in [*panel.buttons, panel.again_button])

    panel.buttons[0].setFocus()
    qtbot.keyClick(panel.buttons[0], Qt.Key.Key_Space)  # the keyboard path
    board = window.run_board
    assert [(c.base_url, c.model) for c in board.configs()] == [(fake_llm.base_url, "gemma-3-270m")]
    assert board.columns[0].model_list.stringList() == ["gemma-3-270m", "qwen-0.5b"]
    qtbot.waitUntil(lambda: window.run_board.findChild(FirstLaunchPanel) is None)

    fake_llm.script(Reply(text="It works."))
    window.editor.setPlainText("user:\nHello")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert board.columns[0].output.toPlainText() == "It works."
    assert fake_llm.chat_requests()[-1].json["model"] == "gemma-3-270m"


def test_nothing_found_says_how_to_start_a_server_and_looks_again(
    window, qtbot, fake_llm: FakeLLM
) -> None:
    port = closed_port()
    offer = window.offer_first_launch([Candidate("Nobody", port)])
    assert offer is not None
    panel = _panel(window)
    qtbot.waitUntil(lambda: panel.again_button.isEnabled(), timeout=5000)
    assert panel.buttons == []
    assert "No model server found" in panel.heading.text()
    # The one-click local model comes first; the do-it-yourself recipe is folded under it.
    assert panel.local_button.isVisible() and panel.local_button.isDefault()
    assert "Gemma 3 270M" in panel.local_note.text()
    assert not panel.details.isVisible() and not panel.copy_button.isVisible()
    assert panel.local_button.x() < panel.manual_button.x()  # first in the row
    panel.manual_button.setFocus()
    qtbot.keyClick(panel.manual_button, Qt.Key.Key_Space)  # the keyboard path
    text = panel.details.text()
    assert "llama_cpp.server" in text and "OPENAI_API_KEY" in text
    assert panel.details.isVisible() and panel.copy_button.isVisible()
    assert panel.manual_button.y() < panel.details.y()

    offer.candidates = (Candidate("Fake", fake_llm.port),)  # a server was started meanwhile
    qtbot.mouseClick(panel.again_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(panel.buttons), timeout=5000)
    assert _offers(panel) == ["Use Fake (fake-model)"]
    qtbot.mouseClick(panel.dismiss_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.run_board.findChild(FirstLaunchPanel) is None)
    assert window.run_board.configs()[0].model == ""  # dismissed: nothing changed


def test_a_key_in_the_environment_is_offered(window, qtbot, fake_llm: FakeLLM, monkeypatch) -> None:
    fake_llm.require_key = PROXY_KEY
    proxy = ProviderProfile(id="proxy", kind="openai-compatible", name="Proxy",
                            base_url=fake_llm.base_url, key_env="MY_PROXY_KEY")  # fmt: skip
    window.profiles.add(proxy)
    window.run_board.set_profiles(window.profiles.profiles())
    monkeypatch.setenv("MY_PROXY_KEY", PROXY_KEY)
    offer = window.offer_first_launch([])
    assert offer is not None
    panel = _panel(window)
    qtbot.waitUntil(lambda: bool(panel.buttons), timeout=5000)
    assert _offers(panel) == ["Use Proxy (key from $MY_PROXY_KEY)"]
    panel.buttons[0].click()
    column = window.run_board.columns[0]
    assert column.profile() is not None and column.profile().id == "proxy"
    qtbot.waitUntil(lambda: column.model_list.stringList() == ["fake-model", "fake-model-large"],
                    timeout=5000)  # fmt: skip
    assert fake_llm.requests_to("/v1/models")[-1].headers["authorization"] == f"Bearer {PROXY_KEY}"


def test_only_on_first_launch(window) -> None:
    window.state.setValue("run/columns", "[]")
    assert window.offer_first_launch([]) is None
    assert window.run_board.findChild(FirstLaunchPanel) is None


def test_the_answer_keeps_room_beside_the_panel_at_1280x800(window, qtbot) -> None:
    """The panel's instructions take height; the column must not be cut off at the bottom
    under them on a small screen (the editor above gives way instead)."""
    window.resize(1280, 800)
    offer = window.offer_first_launch([Candidate("Nobody", closed_port())])
    assert offer is not None
    panel = _panel(window)
    qtbot.waitUntil(lambda: panel.again_button.isEnabled(), timeout=5000)
    window.work_splitter.setSizes([10_000, 1])  # the editor takes all it can
    column = window.run_board.columns[0]
    output = column.output
    viewport = window.run_board.findChild(QScrollArea, "columnsArea").viewport()

    def answer_in_view() -> bool:  # its bottom edge inside the board's view, not cut off
        bottom = output.mapTo(viewport, output.rect().bottomLeft()).y()
        return bottom <= viewport.height()

    qtbot.waitUntil(answer_in_view, timeout=3000)
    assert output.viewport().height() >= 4 * output.fontMetrics().lineSpacing()
    # the layout settles a moment after the panel's text changes (731 before, 644 after)
    qtbot.waitUntil(lambda: window.minimumSizeHint().height() <= 700, timeout=3000)
