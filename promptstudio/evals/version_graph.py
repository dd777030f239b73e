"""A prompt's versions as a graph: each version under its parent, in lanes, with its labels
and its newest evaluation's pass rate (what History's Graph tab draws; Qt-free).

A version's parent is ``versions.parent_id``: the version that was newest when it was
saved, or, for a rewrite (improved, optimised), the version it was made from; so a
rewrite of an older version starts a branch. Rows are newest first, as in ``git log
--graph``: a version takes the lane of a child waiting for it (the leftmost, when several
branches meet at it), or a free lane; its lane then waits for its own parent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from promptstudio.evals.gates import latest_pass_rates
from promptstudio.evals.stats import PassRate
from promptstudio.storage import library
from promptstudio.storage.rows import LabelGate, VersionSummary

GRAPH_LIMIT = 500
"""Versions drawn: the newest ones; an older parent's lane runs on to the bottom."""


@dataclass(frozen=True, slots=True)
class GraphRow:
    """One version's row: its lane, the lanes crossing the row, and its figures.

    ``above``: lanes with a line coming in at the top (the version's own lane among them
    when a newer version descends from it); ``below``: lanes with a line leaving at the
    bottom (its own when it has a parent); ``joins``: other lanes from above that end at
    this version (branches meeting their parent)."""

    version: VersionSummary
    lane: int
    above: tuple[int, ...]
    below: tuple[int, ...]
    joins: tuple[int, ...]
    rate: PassRate | None = None
    branched_from: int | None = None
    """The parent's number when it is not the version just before: a branch starts here."""

    @property
    def width(self) -> int:
        """Lanes this row needs drawn."""
        return 1 + max((self.lane, *self.above, *self.below))


@dataclass(frozen=True, slots=True)
class VersionGraph:
    prompt_id: int
    rows: tuple[GraphRow, ...]
    truncated: bool  # older versions than these exist
    gates: Mapping[str, LabelGate] = field(default_factory=dict)  # label name -> its gate

    @property
    def width(self) -> int:
        """Lanes the widest row needs: where every row's text starts."""
        return max((row.width for row in self.rows), default=1)

    def row_of(self, version_id: int) -> int:
        return next((n for n, row in enumerate(self.rows) if row.version.id == version_id), -1)


def lay_out(
    versions: Sequence[VersionSummary], rates: Mapping[int, PassRate] | None = None
) -> list[GraphRow]:
    """Lanes for versions given newest first (children before their parents)."""
    rates = rates or {}
    numbers = {version.id: version.number for version in versions}
    lanes: list[int | None] = []  # lane -> the version id its line waits for
    laid = []
    for position, version in enumerate(versions):
        older = versions[position + 1].id if position + 1 < len(versions) else None
        parent = version.parent_id
        branched_from = numbers.get(parent) if parent is not None and parent != older else None
        above = tuple(n for n, wanted in enumerate(lanes) if wanted is not None)
        waiting = [n for n in above if lanes[n] == version.id]
        if waiting:
            lane, joins = waiting[0], tuple(waiting[1:])
        else:
            lane = lanes.index(None) if None in lanes else len(lanes)
            joins = ()
            if lane == len(lanes):
                lanes.append(None)
        for joined in joins:
            lanes[joined] = None
        lanes[lane] = version.parent_id
        while lanes and lanes[-1] is None:
            lanes.pop()
        below = tuple(n for n, wanted in enumerate(lanes) if wanted is not None)
        laid.append(
            GraphRow(version, lane, above, below, joins, rates.get(version.id), branched_from)
        )
    return laid


def load_graph(
    conn: sqlite3.Connection, prompt_id: int, *, limit: int = GRAPH_LIMIT
) -> VersionGraph:
    """The prompt's newest ``limit`` versions laid out, with their latest pass rates and
    the gates of their labels."""
    versions = library.version_history(conn, prompt_id, limit=limit + 1)
    truncated = len(versions) > limit
    versions = versions[:limit]
    rows = lay_out(versions, latest_pass_rates(conn, prompt_id))
    gates = {label.name: label.gate for label in library.list_labels(conn, prompt_id)
             if label.gate is not None}  # fmt: skip
    return VersionGraph(prompt_id, tuple(rows), truncated, gates)
