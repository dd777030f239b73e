"""Settings > Providers: add, edit, hide and remove profiles; keys; a connection test."""

from __future__ import annotations

import json

import keyring

from promptstudio.ui.settings.providers_page import ID_ROLE, ProvidersPage
from tests.fake_llm import DEFAULT_MODELS


def _page(window) -> ProvidersPage:
    dialog = window.open_settings()
    page = dialog.findChild(ProvidersPage)
    assert page is not None
    return page


def test_add_edit_and_remove_a_profile_and_columns_offer_it(
    window, fake_llm, isolated_home
) -> None:
    page = _page(window)
    profile = page.add_profile()
    assert profile is not None and page.current_id() == profile.id
    page.name.setText("Fake server")
    page.base_url.setText(fake_llm.base_url)
    assert page.save_current()
    column = window.run_board.columns[0]
    assert column.endpoint.findData(profile.id) >= 0  # the columns know it at once
    saved = json.loads((isolated_home / "profiles.json").read_text())
    assert "Fake server" in json.dumps(saved)

    page.base_url.setText("not a url")
    assert not page.save_current()
    assert not page.error.isHidden() and "URL" in page.error.text()
    assert window.profiles.get(profile.id).base_url == fake_llm.base_url  # unchanged

    page.remove_current()
    assert profile.id not in {p.id for p in window.profiles.profiles(include_hidden=True)}
    assert column.endpoint.findData(profile.id) < 0


def test_a_preset_is_hidden_not_removed(window) -> None:
    page = _page(window)
    ids = [page.model.item(r).data(ID_ROLE) for r in range(page.model.rowCount())]
    page.list.setCurrentIndex(page.model.index(ids.index("groq"), 0))
    assert page.remove_button.text() == "Hide"
    page.remove_current()
    assert "groq" not in {p.id for p in window.profiles.profiles()}
    assert "groq" in {p.id for p in window.profiles.profiles(include_hidden=True)}
    assert page.remove_button.text() == "Show"  # and it can come back


def test_keys_are_saved_to_the_keychain_deleted_and_never_shown(window) -> None:
    page = _page(window)
    ids = [page.model.item(r).data(ID_ROLE) for r in range(page.model.rowCount())]
    page.list.setCurrentIndex(page.model.index(ids.index("openai"), 0))
    current = page.current()
    assert current is not None
    account = current.key_account
    page.key.setText("sk-test-from-settings-1234567890")
    page.store_key()
    assert page.key.text() == ""
    assert keyring.get_password("promptstudio", account) == "sk-test-from-settings-1234567890"
    assert "stored in the OS keychain" in page.key_status.text()
    page.forget_key()
    assert keyring.get_password("promptstudio", account) is None
    assert page.key_status.text().startswith("No key stored")


def test_test_connection_lists_the_models(window, qtbot, fake_llm) -> None:
    page = _page(window)
    page.add_profile()
    page.base_url.setText(fake_llm.base_url)
    assert page.save_current()
    with qtbot.waitSignal(window.tasks.finished, timeout=10_000,
                          check_params_cb=lambda name: name == "test-connection"):  # fmt: skip
        page.test_button.click()
    assert page.test_result.text().startswith(f"✓ Connected: {len(DEFAULT_MODELS)} models")

    fake_llm.require_key = "needed"
    with qtbot.waitSignal(window.tasks.finished, timeout=10_000,
                          check_params_cb=lambda name: name == "test-connection"):  # fmt: skip
        page.test_button.click()
    assert page.test_result.text().startswith("✗ ")
