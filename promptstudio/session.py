"""The prompt being edited, as a Qt-free model the windows mirror.

A :class:`Session` holds what a run, an evaluation, a save and a draft read: the template,
the values of its variables, the run columns (:class:`~promptstudio.runs.columns.ColumnConfig`),
the prompt's test cases, and where the content came from (the prompt and the version it was
opened at), with a dirty flag relative to that version. Every field announces its changes
(:mod:`promptstudio.events`, after napari's evented models): the editor, the variables form,
the run board and the cases table follow the session, and write what the user types back
into it. The core never sees a widget, so what the app sends can be said without Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from promptstudio.chat import Image
from promptstudio.events import Change, Emitter
from promptstudio.images import ImageReader
from promptstudio.runs.columns import ColumnConfig
from promptstudio.tools import ToolDef, ToolsError, tools_from_data

log = logging.getLogger(__name__)
T = TypeVar("T")
Case = dict[str, Any]  # a test case in promptfoo's shape, with the library's "id" when stored


@dataclass(frozen=True, slots=True)
class Source:
    """Where the session's content came from: a prompt, and the version it was opened or
    last saved at (None for a prompt with no version yet, or no prompt at all)."""

    prompt_id: int | None = None
    version_id: int | None = None
    version_number: int | None = None


@dataclass(frozen=True, eq=False, slots=True)
class Content:
    """What a version keeps of a session: the template, the values and the columns.

    Two contents are equal when they would be stored the same (the columns compared as
    stored, :meth:`settings`). No columns means "keep the board's" when a content is shown.
    """

    template: str = ""
    values: Mapping[str, object] = field(default_factory=dict)
    columns: tuple[ColumnConfig, ...] = ()
    tools: tuple[ToolDef, ...] = ()

    @classmethod
    def stored(
        cls, template: str, values: Mapping[str, object], settings: Mapping[str, Any]
    ) -> Content:
        """The content of a stored version or draft (its ``settings`` hold the columns)."""
        columns = settings.get("columns") or []
        try:
            tools = tools_from_data(settings.get("tools") or [])
        except ToolsError as exc:  # a hand-edited file: keep the rest
            log.warning("a stored version's tools are unusable (%s); reading none", exc)
            tools = ()
        columns_read = tuple(ColumnConfig.from_dict(c) for c in columns)
        return cls(template, dict(values), columns_read, tools)

    def settings(self) -> dict[str, Any]:
        """The run settings as a version stores them (``tools`` beside the columns, only
        when there are any: a version without tools is stored as before)."""
        settings: dict[str, Any] = {"columns": [column.to_dict() for column in self.columns]}
        if self.tools:
            settings["tools"] = [tool.to_dict() for tool in self.tools]
        return settings

    def key(self) -> tuple[str, dict[str, object], dict[str, Any]]:
        """(template, values, settings): what :meth:`~storage.library.save_version` takes."""
        return self.template, dict(self.values), self.settings()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Content) and self.key() == other.key()

    __hash__ = None  # type: ignore[assignment]  # mutable parts: not hashable


class SessionEvents:
    """One emitter per field; each gets a :class:`~promptstudio.events.Change`.

    A change whose ``old`` equals its ``value`` is a refresh: the content was replaced by
    the same text (another prompt opened, a version loaded) and views show it anew (the
    editor's undo history and the board's answers belong to what was there before).
    """

    def __init__(self) -> None:
        self.template: Emitter[Change[str]] = Emitter()
        self.values: Emitter[Change[dict[str, object]]] = Emitter()
        self.columns: Emitter[Change[tuple[ColumnConfig, ...]]] = Emitter()
        self.cases: Emitter[Change[tuple[Case, ...]]] = Emitter()
        self.tools: Emitter[Change[tuple[ToolDef, ...]]] = Emitter()
        self.source: Emitter[Change[Source]] = Emitter()
        self.dirty: Emitter[Change[bool]] = Emitter()


class Session:
    """The open prompt's content and where it came from; see the module docstring."""

    def __init__(self) -> None:
        self.events = SessionEvents()
        self._template = ""
        self._unread: Callable[[], str] | None = None  # see template_edited
        self._values: dict[str, object] = {}
        self._columns: tuple[ColumnConfig, ...] = ()
        self._cases: tuple[Case, ...] = ()
        self._tools: tuple[ToolDef, ...] = ()
        self._source = Source()
        self._baseline: Content | None = None
        self._dirty = False
        # The images the library keeps of the version on show, by source (set by whoever
        # opens a version): sent in place of a file that is gone since (``image_reader``).
        self.stored_images: dict[str, Image] = {}

    # ---- the fields --------------------------------------------------------------------

    @property
    def template(self) -> str:
        self.settle()
        return self._template

    @template.setter
    def template(self, text: str) -> None:
        self._set("template", text)

    def template_edited(self, read: Callable[[], str]) -> None:
        """The template was edited where reading it costs (a megabyte of text in an
        editor): ``read()`` gives it when it is next asked for, or at :meth:`settle`."""
        self._unread = read

    def settle(self) -> None:
        """Take in an edit announced with :meth:`template_edited` (and announce it)."""
        read, self._unread = self._unread, None
        if read is not None:
            self._set("template", read())

    @property
    def values(self) -> dict[str, object]:
        """The values of the template's variables (a copy), in the variables' order."""
        return dict(self._values)

    @values.setter
    def values(self, values: Mapping[str, object]) -> None:
        self._set("values", dict(values))

    @property
    def names(self) -> list[str]:
        """The template's variables, as far as they have been read."""
        return list(self._values)

    @property
    def columns(self) -> tuple[ColumnConfig, ...]:
        return self._columns

    @columns.setter
    def columns(self, columns: Iterable[ColumnConfig]) -> None:
        self._set("columns", tuple(columns))

    def column(self, column_id: str) -> ColumnConfig | None:
        return next((c for c in self._columns if c.id == column_id), None)

    @property
    def cases(self) -> tuple[Case, ...]:
        """The open prompt's test cases (they belong to the prompt, not to a version)."""
        return self._cases

    @cases.setter
    def cases(self, cases: Iterable[Mapping[str, Any]]) -> None:
        self._set("cases", tuple(dict(case) for case in cases))

    @property
    def source(self) -> Source:
        return self._source

    @property
    def tools(self) -> tuple[ToolDef, ...]:
        """The tools the prompt's model may call (sent with every column's request)."""
        return self._tools

    @tools.setter
    def tools(self, tools: Iterable[ToolDef]) -> None:
        self._set("tools", tuple(tools))

    @property
    def prompt_id(self) -> int | None:
        return self._source.prompt_id

    def content(self) -> Content:
        self.settle()
        return Content(self._template, dict(self._values), self._columns, self._tools)

    # ---- where it came from, and whether it changed since --------------------------------

    @property
    def baseline(self) -> Content | None:
        """The content of the version the session came from, as shown when it opened."""
        return self._baseline

    @property
    def dirty(self) -> bool:
        """Edited since the version it came from (never without a prompt)."""
        self.settle()
        return self._dirty

    def open(self, source: Source) -> None:
        """The session now belongs to ``source``; its content follows with :meth:`show`,
        and :meth:`mark_clean` says what it opened at (until then it is not dirty)."""
        self._baseline = None
        self.stored_images = {}
        self._set("source", source, refresh=True)

    def image_reader(self) -> ImageReader:
        """What reads the images a render of this session sends: files, or the stored
        copy of one that is gone (its ``gone_note`` says so)."""
        return ImageReader(stored=self.stored_images)

    def show(self, content: Content) -> None:
        """Replace the content (a version, a draft, or nothing opened): every field is
        announced, also when unchanged, so views show it anew. No columns keeps the
        current ones (shown anew as well)."""
        self._set("template", content.template, refresh=True)
        self._set("values", dict(content.values), refresh=True)
        self._set("columns", content.columns or self._columns, refresh=True)
        self._set("tools", content.tools, refresh=True)

    def mark_clean(self, content: Content | None = None, source: Source | None = None) -> None:
        """What the version holds: ``content`` (default: the content now) as saved or
        opened, at ``source`` (default: unchanged)."""
        if source is not None:
            self._set("source", source)
        self._baseline = self.content() if content is None else content
        self._update_dirty()

    def rebase_values(self) -> bool:
        """The template's names were read after it opened: if nothing but the values
        changed since, they are what it opened with. True if the baseline moved."""
        baseline = self._baseline
        if baseline is None or baseline.template != self.template:
            return False
        if baseline.settings() != self.content().settings():
            return False
        self._baseline = self.content()
        self._update_dirty()
        return True

    # ---- events ------------------------------------------------------------------------

    def _set(self, name: str, value: Any, *, refresh: bool = False) -> None:
        if name == "template":
            self._unread = None  # replaced: an unread edit is gone
        old = getattr(self, f"_{name}")
        if not refresh and _same(old, value):
            return
        setattr(self, f"_{name}", value)
        emitter: Emitter[Change[Any]] = getattr(self.events, name)
        emitter.emit(Change(name, value, value if refresh and _same(old, value) else old))
        if name != "cases":
            self._update_dirty()

    def _update_dirty(self) -> None:
        dirty = (
            self._source.prompt_id is not None
            and self._baseline is not None
            and self.content() != self._baseline
        )
        if dirty != self._dirty:
            self._dirty = dirty
            self.events.dirty.emit(Change("dirty", dirty, not dirty))


def _same(old: object, new: object) -> bool:
    if isinstance(old, tuple) and isinstance(new, tuple) and _are_columns(old, new):
        return [c.to_dict() for c in old] == [c.to_dict() for c in new]
    return old is new or old == new


def _are_columns(*groups: Sequence[object]) -> bool:
    return all(isinstance(item, ColumnConfig) for group in groups for item in group)
