"""Where PromptStudio keeps its data.

Order: an explicit ``--data-dir``, then ``$PROMPTSTUDIO_HOME``, then the platform's
user data dir (platformdirs).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "PROMPTSTUDIO_HOME"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        path = Path(explicit)
    elif os.environ.get(ENV_HOME):
        path = Path(os.environ[ENV_HOME])
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("PromptStudio", appauthor=False))
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path(root: Path) -> Path:
    return root / "library.sqlite3"
