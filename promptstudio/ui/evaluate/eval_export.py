"""Writing the shown evaluation results to a file the user chose: CSV, JSON or HTML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from promptstudio.evals.runner import EvalError
from promptstudio.ui.file_dialogs import place
from promptstudio.ui.messages import show_error

if TYPE_CHECKING:
    from promptstudio.ui.evaluate.eval_flow import EvalFlow


def choose_results_file(flow: EvalFlow) -> QFileDialog | None:
    """Ask where to export the shown results (non-modal); None when none are shown."""
    if flow.shown is None:
        return None
    dialog = place(QFileDialog(flow.pane.window(), "Export the results"), "results")
    dialog.setObjectName("exportResultsDialog")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setNameFilters(["CSV (*.csv)", "JSON (*.json)", "HTML report (*.html)"])
    dialog.setDefaultSuffix("csv")
    dialog.selectFile(f"results-v{flow.shown.version_number or 0}.csv")
    dialog.fileSelected.connect(lambda path: export_results(flow, Path(path)))
    dialog.open()
    return dialog


def export_results(flow: EvalFlow, path: Path) -> None:
    """Write the shown results as JSON (``.json``), an HTML report (``.html``) or CSV
    (anything else); JSON and HTML carry the comparisons shown under the grid."""
    from promptstudio.evals.report import results_to_csv, results_to_html, results_to_json
    from promptstudio.exchange.library_io import write_text_atomically

    shown = flow.shown
    if shown is None:
        return
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = results_to_json(shown, flow.compared)
    elif suffix in (".html", ".htm"):
        text = results_to_html(shown, flow.compared)
    else:
        text = results_to_csv(shown)
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        show_error(flow.pane.window(), EvalError(f"Could not write {path}: {exc.strerror}"))
        return
    flow.notifier.say(f"Results exported to {path}")
