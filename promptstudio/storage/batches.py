"""Evaluations sent as provider batches: the pending evaluation, its batches and their items.

The evaluation (status ``pending``), the cells answered already (cache hits, cells that
could not be sent), every batch with its items (``custom_id`` → case, sample, cache key,
messages, body) are written in one transaction before anything is sent; the remote id is
added once the provider has it. Collecting writes the batch's cells and marks it collected
in one transaction that succeeds once: a second collector finds it collected and writes
nothing. Never a key: bodies and targets go through ``refuse_secrets``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from promptstudio.storage.errors import NotFound, StorageError
from promptstudio.storage.evals import _CELL_FIELDS, _cell_values, save_eval_run
from promptstudio.storage.rows import EvalRunRow
from promptstudio.storage.sql import one, refuse_secrets, rows, stored_json, to_json, utc_now
from promptstudio.storage.transaction import transaction

UNSENT = "unsent"
COLLECTED = "collected"


class AlreadyCollected(StorageError):
    """Another process (or an earlier collect) stored this batch's answers already."""


@dataclass(frozen=True, slots=True)
class BatchRow:
    id: int
    eval_run_id: int
    prompt_id: int
    column_key: str
    api: str
    target: dict[str, Any]
    remote_id: str | None
    input_file_id: str | None
    state: str
    counts: dict[str, int]
    error: str | None
    created_at: str
    updated_at: str
    collected_at: str | None
    requests: int = 0  # how many requests (items) it holds

    @property
    def collected(self) -> bool:
        return self.collected_at is not None


@dataclass(frozen=True, slots=True)
class BatchItemRow:
    custom_id: str
    case_key: str
    sample: int
    request_key: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]


def save_pending_eval(
    conn: sqlite3.Connection,
    version_id: int,
    run: Mapping[str, Any],
    batches: Sequence[Mapping[str, Any]],
) -> tuple[EvalRunRow, list[int]]:
    """Store the evaluation as pending with its batches and their items, in one
    transaction; returns the evaluation's row and the batches' ids in order.

    ``run``: ``save_eval_run``'s keyword arguments (status ignored). Each batch:
    ``column_key``, ``api``, ``target`` and ``items`` (dicts of :class:`BatchItemRow`'s
    fields)."""
    for batch in batches:
        refuse_secrets(dict(batch["target"]), "batch target")
        for item in batch["items"]:
            refuse_secrets(dict(item["body"]), "batch request")
    now = utc_now()
    with transaction(conn):
        row = save_eval_run(conn, version_id, **{**run, "status": "pending"})
        ids = []
        for batch in batches:
            cursor = conn.execute(
                "INSERT INTO eval_batches (eval_run_id, column_key, api, target, state, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    batch["column_key"],
                    batch["api"],
                    to_json(dict(batch["target"]), "batch target"),
                    UNSENT,
                    now,
                    now,
                ),
            )
            batch_id = cursor.lastrowid
            assert batch_id is not None
            conn.executemany(
                "INSERT INTO eval_batch_items (batch_id, custom_id, case_key, sample, "
                "request_key, messages, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        batch_id,
                        item["custom_id"],
                        item["case_key"],
                        int(item["sample"]),
                        item["request_key"],
                        to_json(list(item["messages"]), "batch messages"),
                        to_json(dict(item["body"]), "batch request"),
                    )
                    for item in batch["items"]
                ],
            )
            ids.append(batch_id)
    return row, ids


def set_batch_state(
    conn: sqlite3.Connection,
    batch_id: int,
    *,
    state: str,
    counts: Mapping[str, int] | None = None,
    error: str | None = None,
    remote_id: str | None = None,
    input_file_id: str | None = None,
) -> None:
    """Note what the provider said of a batch (a collected batch is left as it is)."""
    with transaction(conn):
        conn.execute(
            "UPDATE eval_batches SET state = ?, counts = COALESCE(?, counts), error = ?, "
            "remote_id = COALESCE(?, remote_id), input_file_id = COALESCE(?, input_file_id), "
            "updated_at = ? WHERE id = ? AND collected_at IS NULL",
            (
                state,
                None if counts is None else to_json(dict(counts), "batch counts"),
                error,
                remote_id,
                input_file_id,
                utc_now(),
                batch_id,
            ),
        )


def collect_batch_cells(
    conn: sqlite3.Connection,
    batch_id: int,
    cells: Sequence[Mapping[str, Any]],
    *,
    state: str,
    error: str | None,
    counts: Mapping[str, int] | None = None,
) -> bool:
    """Store the batch's cells and mark it collected, once; True when that was the last
    batch of its evaluation (which is then done). Raises :class:`AlreadyCollected` when
    it was collected before (by this process or another)."""
    now = utc_now()
    with transaction(conn):
        batch = get_batch(conn, batch_id)
        marked = conn.execute(
            "UPDATE eval_batches SET state = ?, error = ?, counts = COALESCE(?, counts), "
            "collected_at = ?, updated_at = ? WHERE id = ? AND collected_at IS NULL",
            (
                state,
                error,
                None if counts is None else to_json(dict(counts), "batch counts"),
                now,
                now,
                batch_id,
            ),
        ).rowcount
        if marked == 0:
            raise AlreadyCollected(
                f"Batch {batch_id} was collected already into evaluation {batch.eval_run_id}."
            )
        conn.executemany(
            f"""
            INSERT INTO eval_results (eval_run_id, {", ".join(_CELL_FIELDS)})
            VALUES (?, {", ".join("?" * len(_CELL_FIELDS))})
            """,
            [(batch.eval_run_id, *_cell_values(cell)) for cell in cells],
        )
        left = one(
            conn,
            "SELECT count(*) AS n FROM eval_batches WHERE eval_run_id = ? AND collected_at IS NULL",
            (batch.eval_run_id,),
        )
        last = left is not None and left["n"] == 0
        if last:
            conn.execute(
                "UPDATE eval_runs SET status = 'done' WHERE id = ? AND status = 'pending'",
                (batch.eval_run_id,),
            )
        return last


_BATCH_COLUMNS = """
    b.id, b.eval_run_id, e.prompt_id, b.column_key, b.api, b.target, b.remote_id,
    b.input_file_id, b.state, b.counts, b.error, b.created_at, b.updated_at, b.collected_at,
    (SELECT count(*) FROM eval_batch_items i WHERE i.batch_id = b.id) AS requests
"""


def _batch(row: sqlite3.Row) -> BatchRow:
    return BatchRow(
        id=row["id"],
        eval_run_id=row["eval_run_id"],
        prompt_id=row["prompt_id"],
        column_key=row["column_key"],
        api=row["api"],
        target=stored_json(row["target"], {}),
        remote_id=row["remote_id"],
        input_file_id=row["input_file_id"],
        state=row["state"],
        counts=stored_json(row["counts"], {}),
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        collected_at=row["collected_at"],
        requests=row["requests"],
    )


def get_batch(conn: sqlite3.Connection, batch_id: int) -> BatchRow:
    row = one(
        conn,
        f"SELECT {_BATCH_COLUMNS} FROM eval_batches b JOIN eval_runs e ON e.id = b.eval_run_id "
        "WHERE b.id = ?",
        (batch_id,),
    )
    if row is None:
        raise NotFound(f"There is no batch {batch_id}.")
    return _batch(row)


def find_batch(conn: sqlite3.Connection, reference: str) -> BatchRow:
    """A batch by our number or by the provider's id (``batch_…``, ``msgbatch_…``)."""
    if reference.isdigit():
        return get_batch(conn, int(reference))
    row = one(conn, "SELECT id FROM eval_batches WHERE remote_id = ?", (reference,))
    if row is None:
        raise NotFound(f"There is no batch {reference} in this library.")
    return get_batch(conn, row["id"])


def list_batches(
    conn: sqlite3.Connection, *, open_only: bool = False, eval_run_id: int | None = None
) -> list[BatchRow]:
    """Batches, oldest first: all, those not collected yet, or one evaluation's."""
    where, params = [], []
    if open_only:
        where.append("b.collected_at IS NULL")
    if eval_run_id is not None:
        where.append("b.eval_run_id = ?")
        params.append(eval_run_id)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    found = rows(
        conn,
        f"SELECT {_BATCH_COLUMNS} FROM eval_batches b JOIN eval_runs e ON e.id = b.eval_run_id "
        f"{clause} ORDER BY b.id",
        tuple(params),
    )
    return [_batch(row) for row in found]


def batch_items(conn: sqlite3.Connection, batch_id: int) -> list[BatchItemRow]:
    found = rows(
        conn,
        "SELECT custom_id, case_key, sample, request_key, messages, body FROM eval_batch_items "
        "WHERE batch_id = ? ORDER BY rowid",
        (batch_id,),
    )
    return [
        BatchItemRow(
            custom_id=row["custom_id"],
            case_key=row["case_key"],
            sample=row["sample"],
            request_key=row["request_key"],
            messages=stored_json(row["messages"], []),
            body=stored_json(row["body"], {}),
        )
        for row in found
    ]
