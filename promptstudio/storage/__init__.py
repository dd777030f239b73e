"""The prompt library on disk: one SQLite file, one owner thread, versioned schema.

Use :class:`Database` to open the file and run :mod:`promptstudio.storage.library`
functions on its thread: ``db.call(library.list_prompts)``.
"""

from promptstudio.storage import library
from promptstudio.storage.database import CheckMode, Database
from promptstudio.storage.errors import (
    LibraryWriteError,
    NotFound,
    SecretFieldError,
    StorageError,
)
from promptstudio.storage.library import (
    Draft,
    LabelRow,
    PromptRow,
    ResponseRow,
    RunRow,
    RunWithResponses,
    SearchHit,
    TagCount,
    VersionRow,
    VersionSummary,
)
from promptstudio.storage.recovery import RecoveryReport, TableRecovery
from promptstudio.storage.transaction import transaction

__all__ = [
    "CheckMode",
    "Database",
    "Draft",
    "LabelRow",
    "LibraryWriteError",
    "NotFound",
    "PromptRow",
    "RecoveryReport",
    "ResponseRow",
    "RunRow",
    "RunWithResponses",
    "SearchHit",
    "SecretFieldError",
    "StorageError",
    "TableRecovery",
    "TagCount",
    "VersionRow",
    "VersionSummary",
    "library",
    "transaction",
]
