"""The prompt library on disk: one SQLite file, one owner thread, versioned schema.

Use :class:`Database` to open the file and run :mod:`promptstudio.storage.library`
functions on its thread: ``db.call(library.list_prompts)``.
"""

from promptstudio.storage import library
from promptstudio.storage.database import Database
from promptstudio.storage.errors import NotFound, SecretFieldError, StorageError
from promptstudio.storage.library import PromptRow, ResponseRow, RunRow, VersionRow
from promptstudio.storage.transaction import transaction

__all__ = [
    "Database",
    "NotFound",
    "PromptRow",
    "ResponseRow",
    "RunRow",
    "SecretFieldError",
    "StorageError",
    "VersionRow",
    "library",
    "transaction",
]
