"""A configured key never reaches a file: not the library, settings, UI state or logs."""

from __future__ import annotations

import logging

import keyring

from promptstudio.logs import configure_logging, remove_file_logging
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt

SENTINEL = "sk-proj-SENTINEL7e3f9a1c5b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f"


def _files_containing(root, needle: bytes) -> list:  # type: ignore[no-untyped-def]
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_the_sentinel_key_is_in_no_file_after_runs_errors_and_settings(  # type: ignore[no-untyped-def]
    window, qtbot, fake_llm, isolated_home
) -> None:
    log_file = configure_logging(isolated_home)
    try:
        window.workspace.keys.set(fake_llm.base_url, SENTINEL)
        fake_llm.require_key = SENTINEL
        fake_llm.script(Reply(text="authorised answer"))
        new_prompt(qtbot, window)
        window.editor.setPlainText("system:\nBe brief.\nuser:\nHello {{ who }}")
        window.variables.set_value("who", "Ada")
        column = window.run_board.columns[0]
        column.set_target(fake_llm.base_url, "m")
        with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
            window.registry["run.run"].trigger()
        assert column.output.toPlainText() == "authorised answer"
        assert fake_llm.requests[-1].headers["authorization"] == f"Bearer {SENTINEL}"

        # A forced error: the server rejects the key and echoes it back in its body.
        fake_llm.require_key = "something-else"
        window.settings.update({"timeouts.max_retries": 0})
        with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
            window.registry["run.run"].trigger()
        assert column.status.text() == "Failed"
        assert SENTINEL not in column.error.text()

        # Settings changes, a saved version, and a library (SDK/HTTP) logging a header.
        dialog = window.open_settings()
        dialog.fields["timeouts.idle"].setText("33")
        assert dialog.apply()
        dialog.close()
        with qtbot.waitSignal(window.tasks.finished, timeout=3000,
                              check_params_cb=lambda name: name == "save"):  # fmt: skip
            window.registry["prompt.save"].trigger()
        logging.getLogger("httpx2").warning("request headers: Authorization: Bearer %s", SENTINEL)
        logging.getLogger("promptstudio.test").error("key was %s", SENTINEL)
        assert keyring.get_password("promptstudio", fake_llm.base_url) == SENTINEL

        window.close()
        window.workspace.db.close()
    finally:
        remove_file_logging()
    log_text = log_file.read_text(encoding="utf-8")
    assert "request headers" in log_text and "key was" in log_text  # the lines are there...
    assert _files_containing(isolated_home, SENTINEL.encode()) == []  # ...the key is not
    assert (isolated_home / "ui-state.ini").exists() and (isolated_home / "settings.json").exists()
