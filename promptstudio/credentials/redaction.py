"""Keep API keys out of logs, whatever code path formatted them into a message.

Keys leak into logs through exception texts (an SDK quoting a rejected key), request
dumps (``Authorization: Bearer ...``) and careless f-strings. :func:`install_redaction`
masks key-shaped strings in every record of the ``promptstudio`` loggers as the record is
created, so every handler, present or added later, sees the masked text.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

MASK = "[REDACTED]"


def _mask_long_token(match: re.Match[str]) -> str:
    token = match.group(0)
    # Require letters and digits so long words and paths like "/usr/share/..." survive.
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
        return MASK
    return token


_Replacement = str | Callable[[re.Match[str]], str]

_PATTERNS: tuple[tuple[re.Pattern[str], _Replacement], ...] = (
    # "Authorization: Bearer abc", "Bearer abc" (any case).
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]+"), r"\1" + MASK),
    # "Authorization: Basic abc" and other schemes: everything up to the end of the value.
    (
        re.compile(
            r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)(?!bearer\b)[^\s\"'][^\"'\r\n,;}]*"
        ),
        r"\1" + MASK,
    ),
    # api_key=..., "x-api-key": "...", access_token: ... (short local keys too).
    (
        re.compile(
            r"(?i)\b((?:x[-_])?api[-_]?key|access[-_]?token|secret[-_]?key)"
            r"([\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]+"
        ),
        r"\1\2" + MASK,
    ),
    # OpenAI, Anthropic ("sk-ant-"), OpenRouter ("sk-or-"), DeepSeek: "sk-...".
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), MASK),
    # Groq, Google, xAI, Hugging Face.
    (re.compile(r"\b(?:gsk_|xai-|hf_)[A-Za-z0-9_\-]{16,}|\bAIza[A-Za-z0-9_\-]{30,}"), MASK),
    # Long hex or base64(url) runs: tokens of unknown providers.
    (re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}"), _mask_long_token),
)


def redact(text: str) -> str:
    """``text`` with key-shaped substrings replaced by ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretRedactingFilter(logging.Filter):
    """Masks secrets in records under ``name`` (all records if empty); never drops one.

    Works as a handler filter, a logger filter, or through :func:`install_redaction`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not super().filter(record):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it unchanged
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _RedactingRecordFactory:
    """Wraps the previous record factory; one per installed logger name."""

    def __init__(self, previous: Any, redactor: SecretRedactingFilter) -> None:
        self.previous = previous
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        self.redactor.filter(record)
        return record


def install_redaction(logger_name: str = "promptstudio") -> SecretRedactingFilter:
    """Mask secrets in every record of ``logger_name`` and its children. Idempotent.

    A filter on the logger itself would miss records of child loggers (filters do not
    apply to propagated records), and handler filters miss handlers added later; the
    record factory sees every record once, at creation.
    """
    factory = logging.getLogRecordFactory()
    while isinstance(factory, _RedactingRecordFactory):
        if factory.redactor.name == logger_name:
            return factory.redactor
        factory = factory.previous
    redactor = SecretRedactingFilter(logger_name)
    logging.setLogRecordFactory(_RedactingRecordFactory(logging.getLogRecordFactory(), redactor))
    return redactor
