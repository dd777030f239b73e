"""Search hits as a list: prompt name, what matched (name, template vN, answer), snippet.

The matched parts of each snippet are highlighted by painting HTML. Snippets are user
and model text, so each piece is HTML-escaped before the highlight tags go around it: a
template that says ``<b>`` shows ``<b>``, it does not turn bold.

A click (or the arrow keys) previews a hit below the list: the whole template or answer,
read-only, every match highlighted. Nothing changes in the editor until the user asks:
Enter, a double-click or "Show in History" opens the prompt's history on the version and
answer that matched; "Open in editor" puts that version in the editor (the workspace
asks first when that would replace unsaved edits). A name hit opens its prompt.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QPainter,
    QPalette,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from promptstudio.storage import SearchHit
from promptstudio.storage.search import match_spans
from promptstudio.ui import a11y

Index = QModelIndex | QPersistentModelIndex

PROMPT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
VERSION_ID_ROLE = Qt.ItemDataRole.UserRole + 2
KIND_ROLE = Qt.ItemDataRole.UserRole + 3
BADGE_ROLE = Qt.ItemDataRole.UserRole + 4
SNIPPET_HTML_ROLE = Qt.ItemDataRole.UserRole + 5
"""The snippet as HTML: text escaped, matches wrapped in :data:`MARK_OPEN`/:data:`MARK_CLOSE`."""
HTML_ROLE = Qt.ItemDataRole.UserRole + 6
"""The whole row as HTML, what :class:`HtmlDelegate` paints."""

# Dark text on amber reads on a light and a dark palette alike.
MARK_OPEN = '<span style="background-color:#ffd75e; color:#000000;">'
MARK_CLOSE = "</span>"
PADDING = 4
PREVIEW_CHARS = 100_000  # a longer text is previewed around its first match


def highlighted_html(
    text: str, spans: Iterable[tuple[int, int]], start: str = MARK_OPEN, end: str = MARK_CLOSE
) -> str:
    """``text`` as HTML with each (start, end) span wrapped in ``start``/``end``.

    Like :meth:`SearchHit.marked`, but every piece of text is escaped on its own, so the
    tags stay tags and the text stays text.
    """
    out: list[str] = []
    position = 0
    for begin, finish in sorted(spans):
        if begin < position:
            continue
        out += [html.escape(text[position:begin]), start, html.escape(text[begin:finish]), end]
        position = finish
    out.append(html.escape(text[position:]))
    return "".join(out)


def badge(hit: SearchHit) -> str:
    """What matched: the name, a template version, or an answer (and its version)."""
    if hit.kind == "prompt":
        return "name"
    number = f"v{hit.version_number}" if hit.version_number else ""
    if hit.kind == "version":
        return f"template {number}".strip()
    if hit.kind == "eval_cell":
        return f"evaluation note · {number}" if number else "evaluation note"
    return f"answer · {number}" if number else "answer"


class SearchResultsModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def set_hits(self, hits: Sequence[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:  # plain text: accessibility, keyboard search
            return f"{hit.prompt_name} ({badge(hit)}): {hit.snippet}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{hit.prompt_name} — {badge(hit)}\n{hit.snippet}"
        if role == PROMPT_ID_ROLE:
            return hit.prompt_id
        if role == VERSION_ID_ROLE:
            return hit.version_id
        if role == KIND_ROLE:
            return hit.kind
        if role == BADGE_ROLE:
            return badge(hit)
        if role == SNIPPET_HTML_ROLE:
            return highlighted_html(hit.snippet, hit.highlights)
        if role == HTML_ROLE:
            muted = QApplication.palette().color(QPalette.ColorRole.PlaceholderText).name()
            tag = f'&nbsp;&nbsp;<span style="color:{muted};">{html.escape(badge(hit))}</span>'
            snippet = highlighted_html(hit.snippet, hit.highlights)
            if hit.kind == "prompt":  # the snippet is the name: one line says it all
                return f"<b>{snippet}</b>{tag}"
            return f"<b>{html.escape(hit.prompt_name)}</b>{tag}<br/>{snippet}"
        return None


class HtmlDelegate(QStyledItemDelegate):
    """Paints an item's :data:`HTML_ROLE` as rich text, wrapped to the view's width.

    QStyledItemDelegate paints plain text only; this keeps its background, selection and
    focus drawing and puts a QTextDocument on top.
    """

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view

    def html(self, index: Index) -> str:
        return str(index.data(HTML_ROLE) or "")

    def _document(self, option: QStyleOptionViewItem, index: Index) -> QTextDocument:
        document = QTextDocument()
        document.setDocumentMargin(0)
        document.setDefaultFont(option.font)
        document.setHtml(self.html(index))
        document.setTextWidth(max(40, self._view.viewport().width() - 2 * PADDING))
        return document

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        document = self._document(opt, index)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, opt.palette.color(role))
        rect = opt.rect
        painter.save()
        painter.translate(rect.left() + PADDING, rect.top() + PADDING)
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        document = self._document(option, index)
        return QSize(int(document.idealWidth()), int(document.size().height()) + 2 * PADDING)


class SearchResultsView(QWidget):
    """A count (or "No matches") over the list of hits and a preview of the current one."""

    promptSelected = Signal(int)
    versionRequested = Signal(int, int)  # prompt id, version id: into the editor
    matchRequested = Signal(int, int, int)  # prompt, version, response id (0: none): History
    evaluationRequested = Signal(int, int)  # prompt, evaluation: a note on one of its cells
    previewRequested = Signal(object)  # the SearchHit whose whole text the preview needs
    hitsShown = Signal(int)  # how many

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchResults")
        self.model = SearchResultsModel(self)
        self.query = ""
        self.status = QLabel(self)
        self.status.setObjectName("searchStatus")
        self.status.setEnabled(False)  # greyed: a caption, not content
        self.list = QListView(self)
        self.list.setObjectName("searchResultsList")
        self.list.setAccessibleName("Search results")
        self.list.setModel(self.model)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setAlternatingRowColors(True)  # tells one multi-line hit from the next
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.delegate = HtmlDelegate(self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.activated.connect(self.open_index)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("searchSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(self._build_preview())
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)

    def _build_preview(self) -> QWidget:
        page = QWidget(self)
        self.preview_title = QLabel(page)
        self.preview_title.setObjectName("searchPreviewTitle")
        self.preview_title.setWordWrap(True)
        self.preview = QTextBrowser(page)
        self.preview.setObjectName("searchPreview")
        a11y.keyboard_selectable(self.preview)
        self.preview.setAccessibleName("Preview of the match")
        self.preview.setOpenLinks(False)
        self.preview.setPlaceholderText("Select a match to read it here.")
        self.history_button = QPushButton("Show in Hi&story", page)
        self.history_button.setObjectName("searchShowInHistory")
        self.history_button.setToolTip(
            "Open the prompt's history on the version and answer that matched (Enter)"
        )
        self.history_button.clicked.connect(self.open_current)
        self.editor_button = QPushButton("&Open in editor", page)
        self.editor_button.setObjectName("searchOpenInEditor")
        self.editor_button.setToolTip(
            "Put this version in the editor (asks before replacing edits)"
        )
        self.editor_button.clicked.connect(self.open_in_editor)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.history_button)
        buttons.addWidget(self.editor_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.preview_title)
        layout.addWidget(self.preview, 1)
        layout.addLayout(buttons)
        self.preview_page = page
        return page

    def show_hits(self, hits: Sequence[SearchHit], query: str = "") -> None:
        self.query = query
        self.model.set_hits(hits)
        count = len(hits)
        self.status.setText(
            "No matches" if not count else f"{count} match" + ("" if count == 1 else "es")
        )
        self.splitter.setVisible(bool(count))
        self._show_preview(None, "")
        if count:
            self.list.setCurrentIndex(self.model.index(0, 0))
        self.hitsShown.emit(count)

    def current_hit(self) -> SearchHit | None:
        index = self.list.currentIndex()
        return self.model.hit(index.row()) if index.isValid() else None

    def show_preview(self, hit: SearchHit, text: str) -> None:
        """The whole text ``hit`` matched in (read by the owner), if it is still current."""
        if hit == self.current_hit():
            self._show_preview(hit, text)

    def open_current(self) -> None:
        index = self.list.currentIndex()
        if not index.isValid() and self.model.rowCount():
            index = self.model.index(0, 0)
        if index.isValid():
            self.open_index(index)

    def open_index(self, index: QModelIndex) -> None:
        """A name hit opens the prompt; a template or answer hit opens it in History; a note
        on an evaluation cell opens that evaluation."""
        hit = self.model.hit(index.row())
        if hit.kind == "eval_cell" and hit.eval_run_id is not None:
            self.evaluationRequested.emit(hit.prompt_id, hit.eval_run_id)
        elif hit.kind == "prompt" or hit.version_id is None:
            self.promptSelected.emit(hit.prompt_id)
        else:
            self.matchRequested.emit(hit.prompt_id, hit.version_id, hit.response_id or 0)

    def open_in_editor(self) -> None:
        hit = self.current_hit()
        if hit is not None and hit.version_id is not None:
            self.versionRequested.emit(hit.prompt_id, hit.version_id)
        elif hit is not None:
            self.promptSelected.emit(hit.prompt_id)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            hit = self.model.hit(current.row())
            self._show_preview(hit, hit.snippet)  # at once; the whole text follows
            self.previewRequested.emit(hit)

    def _show_preview(self, hit: SearchHit | None, text: str) -> None:
        self.preview_page.setEnabled(hit is not None)
        if hit is None:
            self.preview_title.clear()
            self.preview.clear()
            return
        named = hit.kind == "prompt"
        self.history_button.setVisible(not named)
        self.editor_button.setText("Open the &prompt" if named else "&Open in editor")
        self.preview_title.setText(f"<b>{html.escape(hit.prompt_name)}</b> · {badge(hit)}")
        text = _around_first_match(text, self.query)
        spans = match_spans(text, self.query) if self.query else ()
        body = highlighted_html(text, spans)
        self.preview.setHtml(f'<div style="white-space: pre-wrap;">{body}</div>')
        if spans:  # the first match in sight
            cursor = QTextCursor(self.preview.document())
            cursor.setPosition(spans[0][0])
            self.preview.setTextCursor(cursor)
            self.preview.ensureCursorVisible()


def _around_first_match(text: str, query: str) -> str:
    """At most :data:`PREVIEW_CHARS` of ``text``, from a little before the first match."""
    if len(text) <= PREVIEW_CHARS:
        return text
    spans = match_spans(text, query) if query else ()
    start = max(0, spans[0][0] - PREVIEW_CHARS // 10) if spans else 0
    end = start + PREVIEW_CHARS
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
