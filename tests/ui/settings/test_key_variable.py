"""Settings › Providers: a profile's key variable, and a keyring that is not secure."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
from PySide6.QtCore import Qt

from promptstudio.ui.settings.providers_page import ProvidersPage
from tests.credentials.test_insecure_keyring import FileKeyring
from tests.fake_llm import FakeLLM, Reply

PROXY_KEY = "proxy-SENTINEL-0a1b2c3d4e5f60718293"


def _page(window) -> ProvidersPage:
    page = window.open_settings().findChild(ProvidersPage)
    assert page is not None
    return page


def test_key_variable_round_trip_and_run(
    window, qtbot, fake_llm, isolated_home, monkeypatch
) -> None:
    monkeypatch.setenv("MY_PROXY_KEY", PROXY_KEY)
    page = _page(window)
    profile = page.add_profile()
    assert profile is not None
    page.base_url.setText(fake_llm.base_url)
    page.needs_key.setChecked(True)
    page.key_env.setFocus()
    qtbot.keyClicks(page.key_env, "MY_PROXY_KEY")
    qtbot.keyClick(page.key_env, Qt.Key.Key_Tab)
    assert page.save_current()
    assert "key from $MY_PROXY_KEY" in page.key_status.text()
    saved = json.loads((isolated_home / "profiles.json").read_text())
    assert saved["profiles"][0]["key_env"] == "MY_PROXY_KEY"
    window.dialogs.settings_dialog.reject()
    qtbot.waitUntil(lambda: window.dialogs.settings_dialog is None)
    page = _page(window)  # a new dialog reads the stored profile
    page.list.setCurrentIndex(page.model.index(page.model.rowCount() - 1, 0))
    assert page.key_env.text() == "MY_PROXY_KEY"
    window.dialogs.settings_dialog.reject()

    fake_llm.require_key = PROXY_KEY
    fake_llm.script(Reply(text="through the proxy"))
    column = window.run_board.columns[0]
    column.endpoint.setCurrentIndex(column.endpoint.findData(profile.id))
    column.model.setText("m")
    window.workspace.update_key_status(column.column_id)
    assert column.key_status.text() == "$MY_PROXY_KEY"
    assert "key from $MY_PROXY_KEY" in column.key_status.toolTip()
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.output.toPlainText() == "through the proxy"
    assert fake_llm.chat_requests()[-1].headers["authorization"] == f"Bearer {PROXY_KEY}"
    files = [p for p in isolated_home.rglob("*") if p.is_file()]
    assert not [p for p in files if PROXY_KEY.encode() in p.read_bytes()]


def test_an_unset_key_variable_is_named(window, monkeypatch) -> None:
    monkeypatch.delenv("MY_PROXY_KEY", raising=False)
    page = _page(window)
    assert page.add_profile() is not None
    page.key_env.setText("MY_PROXY_KEY")
    assert page.save_current()
    assert "$MY_PROXY_KEY is not set" in page.key_status.text()
    page.key_env.setText("sk-not-a-variable-0123456789")
    assert not page.save_current()
    assert "NAME of an environment variable" in page.error.text()


def test_a_plaintext_keyring_is_named_and_not_used(window, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    keyring.set_keyring(FileKeyring(path))
    page = _page(window)
    assert "FileKeyring" in page.key_status.text() and "not secure" in page.key_status.text()
    page.key.setText(PROXY_KEY)
    page.store_key()
    assert "session" in page.key_status.text()
    column = window.run_board.columns[0]
    window.workspace.update_key_status(column.column_id)
    assert "FileKeyring" in column.key_status.toolTip()
    assert not path.exists() or PROXY_KEY not in path.read_text()


def test_a_key_typed_for_a_base_url_with_a_trailing_slash_is_sent(
    window, qtbot, fake_llm: FakeLLM
) -> None:
    fake_llm.require_key = "sk-typed-for-slash-0123456789"
    fake_llm.script(Reply(text="authorised"))
    window.editor.setPlainText("user:\nHello")
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url + "/", "m")
    column.key.setText("sk-typed-for-slash-0123456789")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.output.toPlainText() == "authorised"
    assert fake_llm.chat_requests()[-1].headers["authorization"].endswith("0123456789")
