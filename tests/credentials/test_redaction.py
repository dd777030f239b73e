"""Secrets never reach a log handler in clear text."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from promptstudio.credentials import SecretRedactingFilter, install_redaction, redact

SENTINEL = "sk-proj-SENTINEL0123456789abcdefABCDEF"


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def restore_record_factory() -> Iterator[None]:
    previous = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(previous)


@pytest.fixture
def handler() -> Iterator[ListHandler]:
    handler = ListHandler()
    root = logging.getLogger("promptstudio")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    "text",
    [
        SENTINEL,
        "sk-ant-api03-SENTINELabcdefghijklmnop",
        "sk-or-v1-0123456789abcdef0123456789abcdef",
        "gsk_SENTINEL0123456789abcdefghij",
        "AIzaSyD-SENTINEL0123456789abcdefghijk",
        "0123456789abcdef0123456789abcdef01234567",
        "QWxhZGRpbjpvcGVuIHNlc2FtZTEyMzQ1Njc4OTAxMjM0NTY3ODkw==",
    ],
)
def test_key_shapes_are_masked(text: str) -> None:
    assert text not in redact(f"before {text} after")
    assert redact(f"before {text} after").startswith("before ")


def test_headers_and_fields_are_masked() -> None:
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer [REDACTED]"
    assert redact("Authorization: Basic dXNlcjpwYXNz") == "Authorization: [REDACTED]"
    assert redact('{"api_key": "local123"}') == '{"api_key": "[REDACTED]"}'
    assert redact("x-api-key=short") == "x-api-key=[REDACTED]"


def test_ordinary_text_survives() -> None:
    text = "Ran 3 columns on gpt-4o-mini in 1.2 s; see /usr/share/promptstudio/library for ask-me"
    assert redact(text) == text


def test_filter_masks_a_record_with_args_and_exception(handler: ListHandler) -> None:
    log = logging.getLogger("promptstudio.test.filter")
    redactor = SecretRedactingFilter()
    handler.addFilter(redactor)
    try:
        try:
            raise RuntimeError(f"Incorrect API key provided: {SENTINEL}")
        except RuntimeError:
            log.exception("request with key %s failed", SENTINEL)
    finally:
        handler.removeFilter(redactor)
    (line,) = handler.lines
    assert SENTINEL not in line
    assert "[REDACTED]" in line
    assert "RuntimeError" in line


def test_install_redaction_covers_child_loggers_and_later_handlers(
    restore_record_factory: None, handler: ListHandler
) -> None:
    first = install_redaction()
    assert install_redaction() is first  # idempotent
    logging.getLogger("promptstudio.providers.openai").warning("key=%s", SENTINEL)
    logging.getLogger("promptstudio").info("Bearer %s", SENTINEL)
    assert len(handler.lines) == 2
    assert all(SENTINEL not in line for line in handler.lines)


def test_install_redaction_leaves_other_loggers_alone(
    restore_record_factory: None, caplog: pytest.LogCaptureFixture
) -> None:
    install_redaction("promptstudio")
    with caplog.at_level(logging.INFO, logger="elsewhere"):
        logging.getLogger("elsewhere").info("value %s", SENTINEL)
    assert SENTINEL in caplog.text
