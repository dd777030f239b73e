"""The log file users can attach to a bug report, with every line redacted.

``data_dir/logs/promptstudio.log``, rotated at 1 MB (3 kept). The handler carries its own
:class:`SecretRedactingFilter` for *every* logger, because records from the SDKs and the
HTTP client (which may quote headers) do not pass through our loggers' redaction.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from promptstudio.credentials import SecretRedactingFilter, install_redaction

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "promptstudio-file"


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / "promptstudio.log"


def configure_logging(data_dir: Path, *, level: int = logging.INFO) -> Path:
    """Send logs to the rotating file (idempotent); returns the file's path."""
    install_redaction()
    path = log_path(data_dir)
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.get_name() == _HANDLER_NAME:
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.set_name(_HANDLER_NAME)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SecretRedactingFilter(""))
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    logging.getLogger("promptstudio").setLevel(level)
    return path


def remove_file_logging() -> None:
    """Detach and close the file handler (tests, and before a data dir is removed)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
            handler.close()
