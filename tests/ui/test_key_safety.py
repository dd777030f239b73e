"""A configured key never reaches a file: not the library, settings, UI state or logs."""

from __future__ import annotations

import logging

import keyring

from promptstudio.exchange import (
    PromptDocument,
    to_curl,
    to_json,
    to_markdown,
    to_promptfoo,
    to_prompty,
    to_python_anthropic,
    to_python_openai,
)
from promptstudio.logs import configure_logging, remove_file_logging
from promptstudio.storage import library
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt

SENTINEL = "sk-proj-SENTINEL7e3f9a1c5b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f"


def _files_containing(root, needle: bytes) -> list:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _export_every_format(window, prompt_id: int, folder) -> None:
    """Write the prompt in every export format, as a user exporting it would."""
    db = window.workspace.db
    prompt = db.call(library.get_prompt, prompt_id)
    document = PromptDocument.from_library(prompt, db.call(library.latest_version, prompt_id))
    values = window.variables.values()
    folder.mkdir()
    files = {
        "prompt.json": to_json(document),
        "prompt.prompty": to_prompty(document),
        "promptfooconfig.yaml": to_promptfoo(document),
        "prompt.md": to_markdown(document),
        "openai_snippet.py": to_python_openai(document, values),
        "anthropic_snippet.py": to_python_anthropic(document, values),
        "request.sh": to_curl(document, values),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    for column in range(len(document.columns)):  # a snippet for every column
        (folder / f"openai_{column}.py").write_text(to_python_openai(document, values, column))


def test_the_sentinel_key_is_in_no_file_after_runs_errors_and_settings(
    window, qtbot, fake_llm, isolated_home, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)  # the environment fallback holds it too
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

        # A second column on the OpenAI profile (its key comes from $OPENAI_API_KEY), saved,
        # then the prompt exported in every format.
        openai_column = window.run_board.add_column()
        openai_column.endpoint.setCurrentIndex(openai_column.endpoint.findData("openai"))
        openai_column.model.setText("gpt-4o-mini")
        window.workspace.update_key_status(openai_column.column_id)
        assert "$OPENAI_API_KEY" in openai_column.key_status.text()
        with qtbot.waitSignal(window.tasks.finished, timeout=3000,
                              check_params_cb=lambda name: name == "save"):  # fmt: skip
            window.registry["prompt.save"].trigger()
        _export_every_format(window, window.workspace.prompt_id, tmp_path / "exports")

        window.close()
        window.workspace.db.close()
    finally:
        remove_file_logging()
    log_text = log_file.read_text(encoding="utf-8")
    assert "request headers" in log_text and "key was" in log_text  # the lines are there...
    assert _files_containing(isolated_home, SENTINEL.encode()) == []  # ...the key is not
    exports = tmp_path / "exports"
    assert len(list(exports.iterdir())) >= 8
    assert "OPENAI_API_KEY" in (exports / "openai_1.py").read_text()  # read from the env
    assert _files_containing(exports, SENTINEL.encode()) == []
    assert (isolated_home / "ui-state.ini").exists() and (isolated_home / "settings.json").exists()
