"""Keystroke to highlight in a 1 MB template with thousands of variables.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_editor.py [--keys 300]

A template of ~1 MB (chat turns, loops, 5,000 distinct variables) is loaded into the
editor, the cursor goes to its middle, and keys are typed one at a time. Each sample is
the time from sending the key press to the end of the event processing it causes: the
text change, the syntax highlighter on the changed block, and the repaint. The same is
measured in a plain ``QPlainTextEdit`` with the same text and font, and in the whole main
window (where the variables form and the error check follow the text after a 150 ms
pause: that analysis is timed on its own).

Targets (issue 8): p99 <= 16 ms, and within 2x the plain editor.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QTextCursor  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QPlainTextEdit  # noqa: E402

from promptstudio.ui.editor.template_editor import TemplateEditor  # noqa: E402

TARGET_BYTES = 1_000_000
VARIABLES = 5_000


def big_template() -> str:
    """~1 MB: system/user/assistant turns, loops and conditions, 5,000 variables."""
    parts = ["system:\nYou are a careful assistant. {# a comment #}\n"]
    n = 0
    while sum(map(len, parts)) < TARGET_BYTES:
        a, b = f"var_{n % VARIABLES}", f"var_{(n * 7 + 3) % VARIABLES}"
        parts.append(
            f"user:\nQuestion {n}: what about {{{{ {a} }}}} and {{{{ {b} | upper }}}}?\n"
            f"{{% for item in {a}_items %}}- {{{{ item.name }}}}: {{{{ item.value }}}}\n"
            "{% endfor %}\n"
            f"{{% if {b} %}}Mention {{{{ {b} }}}}.{{% endif %}}\n"
            f"assistant:\nAnswer {n} refers to {{{{ {a} }}}}. Lorem ipsum dolor sit amet, "
            "consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.\n"
        )
        n += 1
    return "".join(parts)


def type_keys(editor: QPlainTextEdit, keys: int) -> list[float]:
    app = QApplication.instance()
    assert app is not None
    cursor = editor.textCursor()
    cursor.setPosition(len(editor.toPlainText()) // 2)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    editor.setTextCursor(cursor)
    editor.centerCursor()
    app.processEvents()
    samples = []
    text = "{{ new_variable_name }} and more words "
    for index in range(keys):
        char = text[index % len(text)]
        started = time.perf_counter()
        QTest.keyClick(editor, char)
        app.processEvents()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_window(template: str, keys: int) -> tuple[list[float], float]:
    """Keys typed in the main window's editor; then the debounced analysis, timed alone."""
    from promptstudio.credentials import KeyStore
    from promptstudio.ui.app import open_library
    from promptstudio.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as home:
        db = open_library(Path(home))
        window = MainWindow(db, KeyStore(), Path(home))
        window.resize(1280, 800)
        window.show()
        window.editor.setPlainText(template)
        window.workspace.analysis.analyse(in_background=False)
        samples = type_keys(window.editor, keys)
        window.workspace.analysis.stop()
        started = time.perf_counter()
        window.workspace.analysis.analyse(in_background=False)  # what a worker thread does
        analysis_ms = (time.perf_counter() - started) * 1000
        window.workspace.tasks.shutdown()
        window.run_worker.stop()
        window.hide()
        db.close()
    return samples, analysis_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=300)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    template = big_template()
    results: dict[str, list[float]] = {}
    for name, make in (
        ("plain QPlainTextEdit", QPlainTextEdit),
        ("TemplateEditor", TemplateEditor),
    ):
        editor = make()
        editor.setFont(TemplateEditor().font())
        editor.resize(900, 600)
        editor.show()
        editor.setPlainText(template)
        app.processEvents()
        results[name] = type_keys(editor, args.keys)
        editor.close()
    results["main window editor"], analysis_ms = in_window(template, args.keys)
    print(f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python "
          f"{platform.python_version()}, QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}, "
          f"{time.strftime('%Y-%m-%d')}.")  # fmt: skip
    print(f"Template: {len(template.encode()) / 1e6:.2f} MB, {template.count(chr(10)):,} lines, "
          f"{VARIABLES:,} variables; {args.keys} keys typed mid-document.")  # fmt: skip
    print()
    print("| editor | p50 | p99 | max | p99 vs plain |")
    print("|---|---:|---:|---:|---:|")
    plain_p99 = percentile(results["plain QPlainTextEdit"], 0.99)
    for name, samples in results.items():
        p99 = percentile(samples, 0.99)
        print(f"| {name} | {statistics.median(samples):.2f} ms | {p99:.2f} ms | "
              f"{max(samples):.2f} ms | {p99 / plain_p99:.2f}× |")  # fmt: skip
    print()
    print(f"After a 150 ms pause the variables and errors are read from the whole template "
          f"again (on a worker thread over 100,000 characters): {analysis_ms:.0f} ms.")  # fmt: skip
    _ = Qt


if __name__ == "__main__":
    main()
