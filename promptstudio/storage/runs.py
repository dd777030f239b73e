"""Runs of a version and the responses each model gave, for the history and comparisons."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from promptstudio.storage.errors import NotFound
from promptstudio.storage.rows import (
    ResponseRow,
    RunRow,
    RunWithResponses,
    StepRow,
    response_from,
    run_from,
    step_from,
)
from promptstudio.storage.sql import one, refuse_secrets, rows, scalar, to_json, utc_now
from promptstudio.storage.transaction import transaction


def record_run(conn: sqlite3.Connection, version_id: int, variables: Mapping[str, Any]) -> RunRow:
    """One press of Run: the version and the variable values it was rendered with."""
    refuse_secrets(variables, "run variables")
    variables_json = to_json(dict(variables), "run variables")
    with transaction(conn):
        if scalar(conn, "SELECT 1 FROM versions WHERE id = ?", (version_id,)) is None:
            raise NotFound(f"There is no version with id {version_id}.")
        cursor = conn.execute(
            "INSERT INTO runs (version_id, variables, created_at) VALUES (?, ?, ?)",
            (version_id, variables_json, utc_now()),
        )
        run_id = cursor.lastrowid
        assert run_id is not None
        row = one(conn, "SELECT * FROM runs WHERE id = ?", (run_id,))
        assert row is not None
        return run_from(row)


def add_response(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    base_url: str,
    model: str,
    params: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    text: str,
    status: str,
    error: str | None,
    finish_reason: str | None,
    ttft_ms: float | None,
    total_ms: float | None,
    input_tokens: int | None,
    output_tokens: int | None,
    usage_estimated: bool,
    cost: float | None = None,
) -> ResponseRow:
    """What one model answered in a run, with the exact messages it was sent."""
    refuse_secrets(params, "request parameters")
    refuse_secrets(list(messages), "messages")
    params_json = to_json(dict(params), "request parameters")
    messages_json = to_json([dict(m) for m in messages], "messages")
    with transaction(conn):
        if scalar(conn, "SELECT 1 FROM runs WHERE id = ?", (run_id,)) is None:
            raise NotFound(f"There is no run with id {run_id}.")
        cursor = conn.execute(
            """
            INSERT INTO responses (run_id, base_url, model, params, messages, text, status,
                                   error, finish_reason, ttft_ms, total_ms, input_tokens,
                                   output_tokens, usage_estimated, cost, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                run_id,
                base_url,
                model,
                params_json,
                messages_json,
                text,
                status,
                error,
                finish_reason,
                ttft_ms,
                total_ms,
                input_tokens,
                output_tokens,
                int(bool(usage_estimated)),
                cost,
                utc_now(),
            ),
        )
        response_id = cursor.lastrowid
        assert response_id is not None
        row = one(conn, "SELECT * FROM responses WHERE id = ?", (response_id,))
        assert row is not None
        return response_from(row)


def add_step(
    conn: sqlite3.Connection,
    response_id: int,
    *,
    step: int,
    turns: Sequence[Mapping[str, Any]],
    text: str,
    status: str,
    error: str | None,
    finish_reason: str | None,
    ttft_ms: float | None,
    total_ms: float | None,
    input_tokens: int | None,
    output_tokens: int | None,
    usage_estimated: bool,
    cost: float | None = None,
) -> StepRow:
    """A later step of the conversation that continues answer ``response_id``: the turns
    added before its request (a user turn, tool results) and the reply. Step ``n`` again
    replaces the stored one (a step stored partial, then final)."""
    refuse_secrets(list(turns), "conversation turns")
    turns_json = to_json([dict(t) for t in turns], "conversation turns")
    with transaction(conn):
        if scalar(conn, "SELECT 1 FROM responses WHERE id = ?", (response_id,)) is None:
            raise NotFound(f"There is no answer with id {response_id}.")
        conn.execute(
            """
            INSERT OR REPLACE INTO response_steps (
                response_id, step, turns, text, status, error, finish_reason, ttft_ms,
                total_ms, input_tokens, output_tokens, usage_estimated, cost, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                response_id, step, turns_json, text, status, error, finish_reason, ttft_ms,
                total_ms, input_tokens, output_tokens, int(bool(usage_estimated)), cost,
                utc_now(),
            ),
        )  # fmt: skip
        row = one(
            conn,
            "SELECT * FROM response_steps WHERE response_id = ? AND step = ?",
            (response_id, step),
        )
        assert row is not None
        return step_from(row)


def _with_steps(
    conn: sqlite3.Connection, answers: Sequence[ResponseRow], where: str, params: Sequence[Any]
) -> list[ResponseRow]:
    """The answers with the steps of the conversations continued from them; ``where``
    picks the steps (over ``runs r``, ``responses s`` and ``response_steps st``)."""
    found = rows(
        conn,
        f"""
        SELECT st.* FROM runs r JOIN responses s ON s.run_id = r.id
        JOIN response_steps st ON st.response_id = s.id
        WHERE {where} ORDER BY st.response_id, st.step
        """,
        params,
    )
    steps: dict[int, list[StepRow]] = {}
    for row in found:
        steps.setdefault(row["response_id"], []).append(step_from(row))
    return [replace(a, steps=tuple(steps[a.id])) if a.id in steps else a for a in answers]


# A partial answer checkpointed while it streams, and the same row after its process died.
STREAMING = "streaming"
INTERRUPTED = "interrupted"


def checkpoint_response(
    conn: sqlite3.Connection,
    run_id: int,
    response_id: int | None,
    *,
    text: str,
    ttft_ms: float | None,
    total_ms: float | None,
    output_tokens: int | None,
    **first: Any,
) -> int:
    """Keep what a streaming answer has received so far; returns the response's id.

    The first call inserts the row (``first`` holds the other fields of
    :func:`add_response`) with status ``streaming``; later calls update its text and
    figures, and never touch a row that already holds its final answer. A process that
    dies mid-stream leaves the row ``streaming``: :func:`mark_interrupted` names it so at
    the next open.
    """
    if response_id is None:
        fields = {**first, "status": STREAMING, "error": None, "finish_reason": None}
        return add_response(
            conn, run_id, text=text, ttft_ms=ttft_ms, total_ms=total_ms,
            output_tokens=output_tokens, **fields,
        ).id  # fmt: skip
    with transaction(conn):
        conn.execute(
            f"""
            UPDATE responses SET text = ?, ttft_ms = ?, total_ms = ?, output_tokens = ?,
                                 status = '{STREAMING}'
            WHERE id = ? AND status IN ('{STREAMING}', '{INTERRUPTED}')
            """,
            (text, ttft_ms, total_ms, output_tokens, response_id),
        )
    return response_id


def finish_response(
    conn: sqlite3.Connection, run_id: int, response_id: int | None, **fields: Any
) -> ResponseRow:
    """The final answer (the fields of :func:`add_response`): it replaces the checkpointed
    row ``response_id``, or is added when nothing was checkpointed."""
    if response_id is None:
        return add_response(conn, run_id, **fields)
    refuse_secrets(fields["params"], "request parameters")
    with transaction(conn):
        cursor = conn.execute(
            """
            UPDATE responses SET text = ?, status = ?, error = ?, finish_reason = ?,
                   ttft_ms = ?, total_ms = ?, input_tokens = ?, output_tokens = ?,
                   usage_estimated = ?, cost = ?
            WHERE id = ? AND run_id = ?
            """,
            (
                fields["text"],
                fields["status"],
                fields["error"],
                fields["finish_reason"],
                fields["ttft_ms"],
                fields["total_ms"],
                fields["input_tokens"],
                fields["output_tokens"],
                int(bool(fields["usage_estimated"])),
                fields.get("cost"),
                response_id,
                run_id,
            ),
        )
        if cursor.rowcount == 0:  # the row went with its prompt meanwhile
            raise NotFound(f"There is no answer with id {response_id} in run {run_id}.")
        row = one(conn, "SELECT * FROM responses WHERE id = ?", (response_id,))
        assert row is not None
        return response_from(row)


def mark_interrupted(conn: sqlite3.Connection) -> int:
    """Answers left ``streaming`` by a process that ended mid-stream become ``interrupted``.

    Called when the library is opened. Should another process still be streaming one of
    them, its next checkpoint (at most a second later) sets it back to ``streaming``.
    """
    # Read first (from a small partial index): a read-only library opens without a write.
    if scalar(conn, f"SELECT 1 FROM responses WHERE status = '{STREAMING}' LIMIT 1") is None:
        return 0
    with transaction(conn):
        cursor = conn.execute(
            f"UPDATE responses SET status = '{INTERRUPTED}' WHERE status = '{STREAMING}'"
        )
        return cursor.rowcount


def list_runs(conn: sqlite3.Connection, version_id: int) -> list[RunRow]:
    """Runs of a version, newest first."""
    found = rows(conn, "SELECT * FROM runs WHERE version_id = ? ORDER BY id DESC", (version_id,))
    return [run_from(r) for r in found]


def list_responses(conn: sqlite3.Connection, run_id: int) -> list[ResponseRow]:
    """Responses of a run in the order they were added (the order of the run's columns)."""
    found = rows(conn, "SELECT * FROM responses WHERE run_id = ? ORDER BY id", (run_id,))
    return _with_steps(conn, [response_from(r) for r in found], "r.id = ?", (run_id,))


def runs_for_version(conn: sqlite3.Connection, version_id: int) -> list[RunWithResponses]:
    """Every run of a version, newest first, each with its responses (two queries)."""
    runs = list_runs(conn, version_id)
    by_run: dict[int, list[ResponseRow]] = {run.id: [] for run in runs}
    found = rows(
        conn,
        """
        SELECT s.* FROM runs r JOIN responses s ON s.run_id = r.id
        WHERE r.version_id = ? ORDER BY s.id
        """,
        (version_id,),
    )
    for row in found:
        # The two queries read different indexes; a damaged one (quick_check cannot tell)
        # may list fewer runs than the join finds: such answers wait for the repair.
        if (answers := by_run.get(row["run_id"])) is not None:
            answers.append(response_from(row))
    answers = [a for found_answers in by_run.values() for a in found_answers]
    threaded = {a.id: a for a in _with_steps(conn, answers, "r.version_id = ?", (version_id,))}
    return [
        RunWithResponses(run=run, responses=tuple(threaded[a.id] for a in by_run[run.id]))
        for run in runs
    ]


def compare_model_across_versions(
    conn: sqlite3.Connection, prompt_id: int, model: str, version_ids: Iterable[int]
) -> dict[int, list[ResponseRow]]:
    """What ``model`` answered for each of the given versions, newest response first.

    Every requested version is a key, with an empty list where that model never ran.
    :class:`NotFound` if a version is not one of the prompt's.
    """
    wanted = list(dict.fromkeys(version_ids))
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    owned = {
        vid
        for (vid,) in conn.execute(
            f"SELECT id FROM versions WHERE prompt_id = ? AND id IN ({marks})",
            (prompt_id, *wanted),
        )
    }
    missing = [vid for vid in wanted if vid not in owned]
    if missing:
        raise NotFound(f"Prompt {prompt_id} has no version with id {missing[0]}.")
    result: dict[int, list[ResponseRow]] = {vid: [] for vid in wanted}
    found = rows(
        conn,
        f"""
        SELECT r.version_id AS version_id, s.* FROM runs r JOIN responses s ON s.run_id = r.id
        WHERE r.version_id IN ({marks}) AND s.model = ?
        ORDER BY s.id DESC
        """,
        (*wanted, model),
    )
    for row in found:
        result[row["version_id"]].append(response_from(row))
    return result


def models_for_prompt(conn: sqlite3.Connection, prompt_id: int) -> list[str]:
    """The models that answered any version of the prompt, most used first."""
    found = conn.execute(
        """
        SELECT s.model FROM versions v JOIN runs r ON r.version_id = v.id
        JOIN responses s ON s.run_id = r.id
        WHERE v.prompt_id = ?
        GROUP BY s.model ORDER BY count(*) DESC, s.model
        """,
        (prompt_id,),
    )
    return [model for (model,) in found]
