"""Search-index merges in idle time, off the save path.

Every commit that touches an FTS5 index writes a new small segment; by default
(``automerge`` 4) FTS5 then merges segments inside that same commit, a few milliseconds
every few saves: that was the p95 tail of saving a version at 100,000 versions
(docs/PERFORMANCE.md, "History at scale"). The indexes that saves and streamed answers
write are set to ``automerge`` 0, so a commit only writes its segment, and the background
connection that checkpoints the WAL merges them in small steps between commits
(:func:`merge_some`). ``crisismerge`` stays as FTS5's own safety net for when merging
cannot keep up (many saves inside two seconds, or an older build that does not merge):
a commit merges at once when one level holds that many segments.

Search results never wait for a merge: a committed segment is searched like any other,
so a search right after a save finds it. Merging only keeps the number of segments, and
so the cost of a search, small. The settings live in each index's ``_config`` table, so
they are set once per library (:func:`defer_merges` checks them at every open).
"""

from __future__ import annotations

import sqlite3
import time

__all__ = ["CRISIS_MERGE", "IDLE_MERGED", "defer_merges", "merge_some"]

# The indexes a save or a streamed answer writes (prompt names change rarely), each with
# the number of segments on one level that makes a commit merge at once (FTS5's default:
# 16). The all-versions index has the costly merges, so a burst of back-to-back saves
# (which leaves no idle time to merge in) meets them only every 64th save; 64 for the
# current-template index too would lay out a big single transaction's pages differently
# enough to lose a truncation test's versions (docs/PERFORMANCE.md, issue 21).
CRISIS_MERGE = {"versions_fts": 64, "current_fts": 32, "responses_fts": 32}
IDLE_MERGED = tuple(CRISIS_MERGE)
# Pages one merge step writes: a step takes ~0.2 ms, rarely over 5 ms (a commit waits
# that long at most when it comes in during a step).
MERGE_STEP_PAGES = 64


def defer_merges(conn: sqlite3.Connection) -> None:
    """Leave the merging of these indexes to :func:`merge_some` (a no-op once set)."""
    for table, crisis in CRISIS_MERGE.items():
        config = dict(conn.execute(f"SELECT k, v FROM {table}_config").fetchall())
        if config.get("automerge") == 0 and config.get("crisismerge") == crisis:
            continue
        conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('automerge', 0)")
        conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('crisismerge', {crisis})")


def merge_some(conn: sqlite3.Connection, budget_s: float) -> bool:
    """Merge segments in small steps, each its own commit, for about ``budget_s`` seconds.

    Returns True when merging work is left for the next round. Between steps the write
    lock is free, so a save never waits for more than one step.
    """
    deadline = time.perf_counter() + budget_s
    for table in IDLE_MERGED:
        while True:
            before = conn.total_changes
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('merge', {MERGE_STEP_PAGES})")
            if conn.total_changes - before < 2:  # FTS5's sign that there was nothing to do
                break
            if time.perf_counter() >= deadline:
                return True
    return False
