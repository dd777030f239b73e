"""History's Graph tab: the version graph, loaded when shown, following History's selection.

The graph is read again when the tab is shown or History reloads (a save, a run, a label
moved); moving through History's table only moves the graph's current row.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from promptstudio.evals.version_graph import GRAPH_LIMIT, VersionGraph, load_graph
from promptstudio.storage import Database
from promptstudio.ui.history.hint_stack import HintStack
from promptstudio.ui.history.version_graph_view import VersionGraphView


class GraphTab(QWidget):
    versionChosen = Signal(int)  # Return on a version: History selects it

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graphTab")
        self.db = db
        self.view = VersionGraphView(self)
        self.view.versionChosen.connect(self.versionChosen)
        self.note = QLabel(self)
        self.note.setObjectName("graphNote")
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.stack = HintStack(self.view, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.stack, 1)
        self.stale = True
        self.stack.show_hint("Select a prompt to see its versions as a graph.")

    def mark_stale(self, _tab: int = -1) -> None:
        """Read the graph again the next time it is shown (History's tabs changed)."""
        self.stale = True

    async def show_graph(self, prompt_id: int | None, focus_id: int | None) -> None:
        """Show the prompt's graph (read again if stale or another prompt's) at a version."""
        graph = self.view.graph_model.graph
        if prompt_id is None:
            self.view.set_graph(None)
            self.stack.show_hint("Select a prompt to see its versions as a graph.")
            return
        if self.stale or graph is None or graph.prompt_id != prompt_id:
            self.stale = False
            graph = await self.db.acall(load_graph, prompt_id)
            self.view.set_graph(graph, focus_id)
            self._describe(graph)
        else:
            self.view.show_version(focus_id)
        if graph.rows:
            self.stack.show_content()
        else:
            self.stack.show_hint("This prompt has no versions yet.")

    def _describe(self, graph: VersionGraph) -> None:
        branches = sum(1 for row in graph.rows if row.branched_from is not None)
        shown = f"The newest {GRAPH_LIMIT} versions" if graph.truncated else "Every version"
        self.note.setText(
            f"{shown}, each under its parent · {branches} branch"
            f"{'es' if branches != 1 else ''} · Up/Down move, Right/Left follow a line, "
            "Return selects in History"
        )
