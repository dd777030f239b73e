"""keyring is imported and its backend chosen off the GUI thread before the first key
lookup needs it (issue 21: ~0.1 s of the usable window)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from promptstudio.credentials.keystore import warm_up
assert "keyring" not in sys.modules
warm_up()
import keyring.core
print(type(keyring.core._keyring_backend).__name__)
"""


def test_warm_up_imports_keyring_and_chooses_its_backend() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "PATH": ""},
    )  # fmt: skip
    assert done.stdout.strip() == "Keyring", done.stdout


def test_a_broken_keyring_setting_does_not_stop_the_warm_up() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from promptstudio.credentials.keystore import warm_up; "
         "warm_up(); print('went on')"],
        capture_output=True, text=True, check=True,
        env={"PYTHON_KEYRING_BACKEND": "no.such.Backend", "PATH": ""},
    )  # fmt: skip
    assert done.stdout.strip() == "went on"
