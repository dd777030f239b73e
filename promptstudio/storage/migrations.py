"""The steps of the library schema, one function each, in the order they run.

Step *n* of :data:`MIGRATIONS` turns a schema at version ``n - 1`` into version ``n``.
Steps are append-only: once released, a step never changes; a fix is a new step. The
machinery that runs them (each in its own transaction with the ``user_version`` bump) and
checks a file against them is :mod:`promptstudio.storage.schema`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from promptstudio.storage.migrations_early import (
    APPLICATION_ID,
    FTS_TABLES,
    _step_1_initial,
    _step_2_history_and_library,
    _step_3_test_cases,
    _step_4_evaluations,
    rebuild_search_index,
)

__all__ = ["APPLICATION_ID", "FTS_TABLES", "MIGRATIONS", "rebuild_search_index"]


def _step_5_streaming_answers(conn: sqlite3.Connection) -> None:
    """Answers are checkpointed while they stream (status 'streaming'); at each open the
    ones a dead process left behind become 'interrupted'. This index finds them without
    reading every response."""
    conn.execute("CREATE INDEX responses_streaming ON responses(id) WHERE status = 'streaming'")


def _step_6_pinned_answers(conn: sqlite3.Connection) -> None:
    """Answers pinned beside the run board, per prompt (they were kept in the window only,
    shown on every prompt and lost on restart)."""
    statements = [
        """
        CREATE TABLE pinned_answers (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            label TEXT NOT NULL,  -- what its tab says: model and time
            detail TEXT NOT NULL DEFAULT '',  -- the tab's tooltip: model at base URL
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX pinned_answers_by_prompt ON pinned_answers(prompt_id, id)",
    ]
    for statement in statements:
        conn.execute(statement)


def _step_7_eval_samples(conn: sqlite3.Connection) -> None:
    """Repeats: each answer of an evaluation knows which sample of its case it is (0, the
    only one, for evaluations stored before repeats)."""
    conn.execute("ALTER TABLE eval_results ADD COLUMN sample INTEGER NOT NULL DEFAULT 0")


def _step_8_case_thresholds(conn: sqlite3.Connection) -> None:
    """A test case's promptfoo ``threshold``: the weighted score of its checks it passes
    at (NULL: every check must pass)."""
    conn.execute("ALTER TABLE test_cases ADD COLUMN threshold REAL")
    # And a cached answer's token log-probabilities (JSON list), for ``perplexity`` checks.
    conn.execute("ALTER TABLE response_cache ADD COLUMN logprobs TEXT")


def _step_9_thread_steps(conn: sqlite3.Connection) -> None:
    """A conversation continued from an answer: each later step (the turns added, then the
    model's reply with its figures) belongs to the response it continues. The response row
    stays the first step, so runs stored before keep their meaning."""
    statements = [
        """
        CREATE TABLE response_steps (
            id INTEGER PRIMARY KEY,
            response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
            step INTEGER NOT NULL,  -- 1, 2, ...: the response itself is step 0
            turns TEXT NOT NULL,  -- JSON list of messages added before this request
            text TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            finish_reason TEXT,
            ttft_ms REAL,
            total_ms REAL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            usage_estimated INTEGER NOT NULL DEFAULT 0,
            cost REAL,
            created_at TEXT NOT NULL,
            UNIQUE (response_id, step)
        )
        """,
    ]
    for statement in statements:
        conn.execute(statement)


def _step_11_images(conn: sqlite3.Connection) -> None:
    """Images a version sends, by content hash: one row per distinct image however many
    versions hold it, so the history keeps them without copies and diffs can name them."""
    statements = [
        """
        CREATE TABLE images (
            sha256 TEXT PRIMARY KEY,
            media_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL
        )
        """,
        """
        CREATE TABLE version_images (
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,  -- order in the rendered messages
            name TEXT NOT NULL,  -- the alt text
            source TEXT NOT NULL,  -- the path or URL as written (a data URL shortened)
            sha256 TEXT REFERENCES images(sha256),  -- NULL for a remote URL
            PRIMARY KEY (version_id, position)
        )
        """,
        "CREATE INDEX version_images_by_image ON version_images(sha256)",
    ]
    for statement in statements:
        conn.execute(statement)


def _step_10_human_ratings(conn: sqlite3.Connection) -> None:
    """A person's verdict on an answer (1 good, -1 bad, NULL none) and a note, kept with
    the answer itself: a run's response, an evaluation cell, a pinned answer. The partial
    indexes keep "rated answers" and the note search to the few rows that have them."""
    for table in ("responses", "eval_results", "pinned_answers"):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN rating INTEGER")
        conn.execute(f"ALTER TABLE {table} ADD COLUMN rating_note TEXT")
        conn.execute(
            f"CREATE INDEX {table}_rated ON {table}(id) "
            "WHERE rating IS NOT NULL OR rating_note IS NOT NULL"
        )


def _step_12_tool_calls(conn: sqlite3.Connection) -> None:
    """The tool calls of an answer and of each later step (JSON list, in OpenAI's Chat
    Completions shape; NULL: none), so a tool conversation is stored whole."""
    for table in ("responses", "response_steps"):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if "tool_calls" not in columns:  # a file rebuilt by an older step already has it
            conn.execute(f"ALTER TABLE {table} ADD COLUMN tool_calls TEXT")


def _step_13_eval_tool_calls(conn: sqlite3.Connection) -> None:
    """The tool calls of an evaluation's answer (JSON list, as ``responses.tool_calls``;
    NULL: none), so the grid shows them for stored evaluations too."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(eval_results)")}
    if "tool_calls" not in columns:
        conn.execute("ALTER TABLE eval_results ADD COLUMN tool_calls TEXT")


def _step_14_batches(conn: sqlite3.Connection) -> None:
    """Evaluations sent as provider batches (OpenAI Batch API, Anthropic Message Batches).

    ``eval_batches``: one per column of a pending evaluation; ``api`` is chat, responses
    or messages; ``target`` (JSON) the column config, model, params and base URL (never a
    key); ``remote_id`` the provider's batch id (NULL until created); ``input_file_id``
    OpenAI's uploaded JSONL; ``state`` 'unsent', the provider's status, or what it ended
    as; ``counts`` (JSON) done, failed, total; ``error`` why the batch as a whole failed.
    ``eval_batch_items``: which request (``custom_id``) answers which case and sample, its
    cache key, the rendered messages (for grading) and the body sent. ``eval_results.batch``
    marks an answer that came by batch (its cost is at the batch price).
    """
    statements = [
        "CREATE TABLE IF NOT EXISTS eval_batches (id INTEGER PRIMARY KEY, "
        "eval_run_id INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE, "
        "column_key TEXT NOT NULL, api TEXT NOT NULL, target TEXT NOT NULL, remote_id TEXT, "
        "input_file_id TEXT, state TEXT NOT NULL, counts TEXT NOT NULL DEFAULT '{}', "
        "error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, collected_at TEXT)",
        "CREATE INDEX IF NOT EXISTS eval_batches_by_run ON eval_batches(eval_run_id)",
        "CREATE TABLE IF NOT EXISTS eval_batch_items (batch_id INTEGER NOT NULL "
        "REFERENCES eval_batches(id) ON DELETE CASCADE, custom_id TEXT NOT NULL, "
        "case_key TEXT NOT NULL, sample INTEGER NOT NULL DEFAULT 0, "
        "request_key TEXT NOT NULL, messages TEXT NOT NULL, body TEXT NOT NULL, "
        "PRIMARY KEY (batch_id, custom_id))",
    ]
    for statement in statements:
        conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(eval_results)")}
    if "batch" not in columns:  # a file rebuilt by an older step already has it
        conn.execute("ALTER TABLE eval_results ADD COLUMN batch INTEGER NOT NULL DEFAULT 0")


def _step_15_generated_cases(conn: sqlite3.Connection) -> None:
    """A test case a model wrote ("Generate test cases") is marked so the user reviews it;
    cases made before are the user's own (0). And each optimisation's report (JSON: the
    rounds, every candidate's pass rate and cost, the chosen version), kept with the prompt."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(test_cases)")}
    if "generated" not in columns:  # a file rebuilt by an older step already has it
        conn.execute("ALTER TABLE test_cases ADD COLUMN generated INTEGER NOT NULL DEFAULT 0")
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS optimisations (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,  -- the original
            chosen_version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,
            stopped TEXT NOT NULL,
            report TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS optimisations_by_prompt ON optimisations(prompt_id, id)"
    )


def _step_16_eval_input_estimates(conn: sqlite3.Connection) -> None:
    """An evaluation cell's own estimate of its input tokens (characters / 4 of the messages
    sent), kept when the server reported the real count: the plan calibrates its estimates
    on evaluations as on runs (NULL: not known, as for every cell stored before)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(eval_results)")}
    if "input_estimate" not in columns:
        conn.execute("ALTER TABLE eval_results ADD COLUMN input_estimate INTEGER")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS eval_results_estimated ON eval_results(id) "
        "WHERE input_estimate IS NOT NULL"
    )


def _step_17_label_gates(conn: sqlite3.Connection) -> None:
    """A label's gate: the pass rate the version's latest evaluation must reach (optionally
    the lower bound of its 95% interval), on the label's models (JSON list; empty: every
    model of that evaluation). NULL ``gate_pass_rate``: the label has no gate."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(labels)")}
    for name, definition in (
        ("gate_pass_rate", "REAL"),
        ("gate_lower_bound", "INTEGER NOT NULL DEFAULT 0"),
        ("gate_models", "TEXT NOT NULL DEFAULT '[]'"),
    ):
        if name not in columns:
            conn.execute(f"ALTER TABLE labels ADD COLUMN {name} {definition}")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _step_1_initial,
    _step_2_history_and_library,
    _step_3_test_cases,
    _step_4_evaluations,
    _step_5_streaming_answers,
    _step_6_pinned_answers,
    _step_7_eval_samples,
    _step_8_case_thresholds,
    _step_9_thread_steps,
    _step_10_human_ratings,
    _step_11_images,
    _step_12_tool_calls,
    _step_13_eval_tool_calls,
    _step_14_batches,
    _step_15_generated_cases,
    _step_16_eval_input_estimates,
    _step_17_label_gates,
]
