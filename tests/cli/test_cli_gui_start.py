"""Opening the GUI reads only the top-level options: no command's parser (and modules) is
built before the window's first paint."""

from __future__ import annotations

import subprocess
import sys

from promptstudio.cli import _gui_arguments


def test_gui_arguments_are_read_without_the_commands() -> None:
    args = _gui_arguments(["--data-dir", "lib", "--smoke"])
    assert args is not None
    assert (args.command, args.data_dir, args.smoke, args.screenshot) == (None, "lib", True, None)
    assert _gui_arguments([]) is not None
    for words in (
        ["run", "t.txt"],
        ["--data-dir", "lib", "history"],
        ["--help"],
        ["gui"],
        ["--version"],
        ["export", "P", "--version", "2"],
        ["run", "t.txt", "--smoke"],
    ):
        assert _gui_arguments(words) is None, words


def test_opening_the_gui_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from promptstudio.cli import _gui_arguments\n"
        "assert _gui_arguments(['--data-dir', 'lib']) is not None\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('promptstudio.cli.', "
        "'promptstudio.providers')))\n"
        "print(loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
