"""A prompt's test cases as an editable, undoable table: a column per variable, then
Expected, Checks and Notes.

Cases are promptfoo ``tests`` entries. Each row carries a key of its own that survives
undo and redo, and the library's ``id`` hangs on that key (see :meth:`assign_ids`), so a
case deleted and brought back by Ctrl+Z is saved under the id it had. Every change is a
snapshot of the whole (shallow) list pushed on :attr:`undo_stack`: the command's redo
makes the change, so it happens once, on push. Case dicts are never changed in place,
which keeps snapshots cheap and lets :meth:`_show` tell what changed by identity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from itertools import count
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QUndoCommand, QUndoStack

from promptstudio.evals.checks_text import format_check, format_checks, parse_checks
from promptstudio.evals.graders import ASSERTION_TYPES, NEGATION_PREFIX, GraderError
from promptstudio.evals.results import case_threshold
from promptstudio.templating.threads import is_thread
from promptstudio.values import parse_value

EXPECTED: Final = "Expected"
CHECKS: Final = "Checks"
NOTES: Final = "Notes"
FIXED_COLUMNS: Final = (EXPECTED, CHECKS, NOTES)
CHECKS_SEPARATOR: Final = " · "
UNDO_LIMIT: Final = 200
TOOLTIP_FROM_CHARS: Final = 40  # longer cell texts (or several lines) get a tooltip
Index = QModelIndex | QPersistentModelIndex
Row = tuple[int, dict[str, Any]]  # (the row's own key, the case without its id)

_CHECK_TYPES: Final = "\n".join(f"{name}: {text}" for name, text in ASSERTION_TYPES.items())
CHECKS_HELP: Final = (
    f"One check per line, like 'contains: Paris'. The types:\n{_CHECK_TYPES}\n"
    f"Prefix {NEGATION_PREFIX} to negate, like '{NEGATION_PREFIX}contains: sorry'."
)
_HEADER_TIPS: Final = {
    EXPECTED: "Graded with equals when the case has no checks of its own",
    CHECKS: CHECKS_HELP,
    NOTES: "What the case is about (promptfoo's description)",
}


def _no_constants(name: str) -> Any:
    raise ValueError(name)


_DECODER: Final = json.JSONDecoder(parse_constant=_no_constants)  # no NaN or Infinity


def value_text(value: object) -> str:
    """A variable's value as typed in a cell: text as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _edited_value(before: object, text: str) -> object:
    """What typing ``text`` over ``before`` stores: JSON stays JSON when the text is; a
    thread typed as JSON (a list of turns) is a thread."""
    if isinstance(before, str):
        typed = parse_value(text)
        return typed if is_thread(typed) else text
    try:
        return _DECODER.decode(text)
    except ValueError:
        return text


def _normal(case: Mapping[str, Any]) -> dict[str, Any]:
    variables = case.get("vars")
    expected = case.get("expected")
    return {
        "vars": dict(variables) if isinstance(variables, Mapping) else {},
        "description": str(case.get("description") or ""),
        "expected": None if expected is None else str(expected),
        "assert": [dict(check) for check in case.get("assert") or ()],
        "threshold": case_threshold(case),  # not shown, but kept (promptfoo's threshold)
        "generated": bool(case.get("generated")),  # a model wrote it: marked for review
    }


class _Snapshot(QUndoCommand):
    """One user change: the whole list before and after it."""

    def __init__(self, model: CasesModel, text: str, before: list[Row], after: list[Row]) -> None:
        super().__init__(text)
        self._model, self._before, self._after = model, before, after

    def redo(self) -> None:
        self._model._show(self._after)

    def undo(self) -> None:
        self._model._show(self._before)


class CasesModel(QAbstractTableModel):
    """The cases of one prompt; every edit goes through :attr:`undo_stack`."""

    casesChanged = Signal()  # after every change, undo and redo; not after set_cases
    problem = Signal(str)  # why an edit was refused

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self._keys = count()
        self._rows: list[Row] = []
        self._ids: dict[int, int] = {}  # row key -> the library's id
        self._template: list[str] = []
        self._names: list[str] = []  # variable columns: the template's, then the others

    # ---- the cases -------------------------------------------------------------------------

    def set_variables(self, names: Sequence[str]) -> None:
        """The template's variables, in order; they come first among the columns."""
        if list(names) == self._template:
            return
        self._template = list(names)
        columns = self._columns_of(self._rows)
        if columns != self._names:
            self.beginResetModel()
            self._names = columns
            self.endResetModel()
        elif columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(columns) - 1)

    @property
    def variable_names(self) -> list[str]:
        return list(self._names)

    def set_cases(self, cases: Iterable[Mapping[str, Any]]) -> None:
        """Load another prompt's cases: nothing to undo, nothing to save."""
        self.beginResetModel()
        self._ids = {}
        self._rows = self._new_rows(cases)
        self._names = self._columns_of(self._rows)
        self.endResetModel()
        self.undo_stack.clear()

    def cases(self) -> list[dict[str, Any]]:
        """The cases in promptfoo's shape, with the library's ``id`` where known."""
        return [self._exported(key, case) for key, case in self._rows]

    def assign_ids(self, ids: Sequence[int]) -> None:
        """The ids the library gave the cases, in order (not a change: nothing to save)."""
        if len(ids) == len(self._rows):
            self._ids.update(
                (key, case_id) for (key, _), case_id in zip(self._rows, ids, strict=True)
            )

    def checks_column(self) -> int:
        return len(self._names) + FIXED_COLUMNS.index(CHECKS)

    # ---- changes (each one undo step) --------------------------------------------------------

    def add_case(self, values: Mapping[str, Any] | None = None, row: int | None = None) -> int:
        """A new case, every variable "" unless given; returns its row."""
        at = len(self._rows) if row is None else max(0, min(row, len(self._rows)))
        variables = {name: "" for name in self._template} | dict(values or {})
        after = list(self._rows)
        after.insert(at, (next(self._keys), _normal({"vars": variables})))
        self._push("Add case", after)
        return at

    def duplicate_rows(self, rows: Iterable[int]) -> list[int]:
        """A copy of each row right below it; returns the copies' rows."""
        chosen = set(self._valid(rows))
        after: list[Row] = []
        copies = []
        for number, (key, case) in enumerate(self._rows):
            after.append((key, case))
            if number in chosen:
                copies.append(len(after))
                after.append((next(self._keys), case))
        if copies:
            self._push(_counted("Duplicate", len(copies)), after)
        return copies

    def remove_rows(self, rows: Iterable[int]) -> None:
        chosen = set(self._valid(rows))
        if chosen:
            after = [row for number, row in enumerate(self._rows) if number not in chosen]
            self._push(_counted("Delete", len(chosen)), after)

    def move_row(self, row: int, delta: int) -> int:
        """Move a row up (negative) or down; returns where it is now."""
        target = row + delta
        if not (0 <= row < len(self._rows) and 0 <= target < len(self._rows)) or not delta:
            return row
        after = list(self._rows)
        after.insert(target, after.pop(row))
        self._push("Move case", after)
        return target

    def replace_all(self, cases: Iterable[Mapping[str, Any]]) -> None:
        """Replace every case (an import), as one step that can be undone."""
        self._push("Import cases", self._new_rows(cases))

    # ---- Qt model ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._names) + len(FIXED_COLUMNS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        editable = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
        return Qt.ItemFlag.ItemIsEnabled | editable if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        case = self._rows[index.row()][1]
        checks = index.column() == self.checks_column()
        if role == Qt.ItemDataRole.DisplayRole and checks:
            return CHECKS_SEPARATOR.join(format_check(check) for check in case["assert"])
        if role == Qt.ItemDataRole.DisplayRole and (turns := self._thread(case, index)):
            return f"thread of {len(turns)} turns"  # edited as JSON; the tooltip shows it
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(case, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self._text(case, index.column())
            return text if checks or len(text) > TOOLTIP_FROM_CHARS or "\n" in text else None
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        key, case = self._rows[index.row()]
        variable, header = self._column(index.column())
        text = "" if value is None else str(value)
        edited = dict(case)
        if variable is not None:
            if variable not in case["vars"] and not text:
                return True  # an empty cell opened and closed: nothing to keep
            stored = _edited_value(case["vars"].get(variable, ""), text)
            edited["vars"] = case["vars"] | {variable: stored if isinstance(value, str) else value}
        elif header == CHECKS:
            try:
                edited["assert"] = parse_checks(text)
            except GraderError as exc:
                self.problem.emit(exc.message)
                return False
        elif header == EXPECTED:
            edited["expected"] = text or None
        else:
            edited["description"] = text
        if edited != case:
            after = list(self._rows)
            after[index.row()] = (key, edited)
            self._push(f"Edit {header}", after)
        return True

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < self.columnCount():
            variable, header = self._column(section)
            extra = variable is not None and variable not in self._template
            if role == Qt.ItemDataRole.DisplayRole:
                return header
            if role == Qt.ItemDataRole.FontRole and extra:
                font = QFont()
                font.setItalic(True)  # a variable the template no longer has
                return font
            if role != Qt.ItemDataRole.ToolTipRole:
                return None
            if variable is None:
                return _HEADER_TIPS[header]
            return "Not in the template (only in cases)" if extra else "Variable of the template"
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            generated = self._rows[section][1].get("generated")
            if generated and role == Qt.ItemDataRole.DisplayRole:
                return f"{section + 1} ✦"
            if generated and role == Qt.ItemDataRole.ToolTipRole:
                return "Generated by a model: review it"
        return super().headerData(section, orientation, role)

    # ---- internals -------------------------------------------------------------------------

    def _push(self, text: str, after: list[Row]) -> None:
        self.undo_stack.push(_Snapshot(self, text, list(self._rows), after))

    def _show(self, rows: list[Row]) -> None:
        """Make ``rows`` the list, telling views as precisely as cheaply possible."""
        old, new = [key for key, _ in self._rows], [key for key, _ in rows]
        columns = self._columns_of(rows)
        if columns != self._names:
            self.beginResetModel()
            self._rows, self._names = list(rows), columns
            self.endResetModel()
        elif old == new:
            changed = [
                n for n, (a, b) in enumerate(zip(self._rows, rows, strict=True)) if a[1] is not b[1]
            ]
            self._rows = list(rows)
            if changed:
                last = self.columnCount() - 1
                self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], last))
        else:
            self._show_rows_moved(old, new, rows)
        self.casesChanged.emit()

    def _show_rows_moved(self, old: list[int], new: list[int], rows: list[Row]) -> None:
        """Rows inserted, removed or one moved: precise signals keep the selection."""
        size = min(len(old), len(new))
        start = next((n for n in range(size) if old[n] != new[n]), size)
        tail = next((n for n in range(size - start) if old[-1 - n] != new[-1 - n]), size - start)
        was, now = old[start : len(old) - tail], new[start : len(new) - tail]
        root = QModelIndex()
        if not was:
            self.beginInsertRows(root, start, start + len(now) - 1)
            end = self.endInsertRows
        elif not now:
            self.beginRemoveRows(root, start, start + len(was) - 1)
            end = self.endRemoveRows
        elif len(was) == len(now) > 1 and was[1:] == now[:-1] and was[0] == now[-1]:
            self.beginMoveRows(root, start, start, root, start + len(was))  # down
            end = self.endMoveRows
        elif len(was) == len(now) > 1 and was[:-1] == now[1:] and was[-1] == now[0]:
            last = start + len(was) - 1
            self.beginMoveRows(root, last, last, root, start)  # up
            end = self.endMoveRows
        else:
            self.beginResetModel()
            end = self.endResetModel
        self._rows = list(rows)
        end()

    def _new_rows(self, cases: Iterable[Mapping[str, Any]]) -> list[Row]:
        rows = []
        for case in cases:
            key = next(self._keys)
            if case.get("id") is not None:
                self._ids[key] = case["id"]
            rows.append((key, _normal(case)))
        return rows

    def _columns_of(self, rows: Iterable[Row]) -> list[str]:
        names = dict.fromkeys(self._template)
        for _, case in rows:
            names.update(dict.fromkeys(case["vars"]))
        return list(names)

    def _column(self, column: int) -> tuple[str | None, str]:
        """(the variable's name, or None for a fixed column; the header)."""
        names = len(self._names)
        if column < names:
            return self._names[column], self._names[column]
        return None, FIXED_COLUMNS[column - names]

    def _thread(self, case: dict[str, Any], index: Index) -> list[Any] | None:
        variable = self._column(index.column())[0]
        value = case["vars"].get(variable) if variable is not None else None
        return value if is_thread(value) else None

    def _text(self, case: dict[str, Any], column: int) -> str:
        variable, header = self._column(column)
        if variable is not None:
            return value_text(case["vars"].get(variable, ""))
        if header == CHECKS:
            return format_checks(case["assert"])
        return case["expected"] or "" if header == EXPECTED else str(case["description"])

    def _exported(self, key: int, case: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self._ids[key]} if key in self._ids else {}
        out["vars"] = dict(case["vars"])
        if case["description"]:
            out["description"] = case["description"]
        if case["expected"] is not None:
            out["expected"] = case["expected"]
        if case["assert"]:
            out["assert"] = [dict(check) for check in case["assert"]]
        if case.get("threshold") is not None:
            out["threshold"] = case["threshold"]
        return out

    def _valid(self, rows: Iterable[int]) -> list[int]:
        return sorted({row for row in rows if 0 <= row < len(self._rows)})


def _counted(verb: str, number: int) -> str:
    return f"{verb} {number} case{'' if number == 1 else 's'}"
