"""The library schema and its migrations, versioned by ``PRAGMA user_version``.

Step *n* of :data:`MIGRATIONS` turns a schema at version ``n - 1`` into version ``n``.
Steps are append-only: once released, a step never changes; a fix is a new step. Each step
runs in its own transaction together with the ``user_version`` bump, so a crash leaves the
file at a version that exists (the header change is transactional in SQLite).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
from collections.abc import Callable

from promptstudio.storage.errors import StorageError
from promptstudio.storage.transaction import transaction

logger = logging.getLogger(__name__)

# "PSTD": marks the file as ours, so we never add tables to another program's database.
APPLICATION_ID = 0x50535444


def _step_1_initial(conn: sqlite3.Connection) -> None:
    """Prompts, their version history, runs and the responses of each run."""
    statements = [
        f"PRAGMA application_id = {APPLICATION_ID}",
        """
        CREATE TABLE prompts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            folder TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            trashed_at TEXT
        )
        """,
        """
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES versions(id),
            template TEXT NOT NULL,
            variables TEXT NOT NULL,  -- JSON object
            settings TEXT NOT NULL,  -- JSON object: run columns, params
            message TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,  -- 'save' | 'run' | 'import' | 'sample'
            content_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX versions_by_prompt ON versions(prompt_id, id)",
        "CREATE INDEX versions_by_hash ON versions(prompt_id, content_hash)",
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            variables TEXT NOT NULL,  -- JSON object
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX runs_by_version ON runs(version_id, id)",
        """
        CREATE TABLE responses (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            base_url TEXT NOT NULL,
            model TEXT NOT NULL,
            params TEXT NOT NULL,  -- JSON object
            messages TEXT NOT NULL,  -- JSON of the exact messages sent
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
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX responses_by_run ON responses(run_id, id)",
    ]
    for statement in statements:
        conn.execute(statement)


def _step_2_history_and_library(conn: sqlite3.Connection) -> None:
    """Stars, tags, folders, labels, drafts, version numbers and full-text search.

    Search uses FTS5 with the trigram tokenizer (any 3+ character substring matches) over
    external-content tables, so no text is stored twice; triggers keep the indexes in
    step. ``current_fts`` indexes only each prompt's latest template, so "which prompts
    say X now" never has to wade through 20,000 old versions of one prompt.
    """
    statements = [
        "ALTER TABLE prompts ADD COLUMN starred INTEGER NOT NULL DEFAULT 0",
        """
        CREATE TABLE folders (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,  -- 'Work/Clients': '/' separates levels
            created_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE prompt_tags (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            tag TEXT NOT NULL COLLATE NOCASE,
            UNIQUE (prompt_id, tag)
        )
        """,
        "CREATE INDEX prompt_tags_by_tag ON prompt_tags(tag, prompt_id)",
        # Version numbers per prompt (v1, v2, ...), stable even if rows are ever lost.
        "ALTER TABLE versions ADD COLUMN number INTEGER",
        """
        UPDATE versions SET number = numbered.n
        FROM (SELECT id, row_number() OVER (PARTITION BY prompt_id ORDER BY id) AS n
              FROM versions) AS numbered
        WHERE numbered.id = versions.id
        """,
        "CREATE UNIQUE INDEX versions_by_number ON versions(prompt_id, number)",
        # Covers the history page: no need to read rows whose template spills over
        # many overflow pages just to show their message and time.
        "DROP INDEX versions_by_prompt",
        """
        CREATE INDEX versions_history
        ON versions(prompt_id, id, number, parent_id, kind, created_at, message)
        """,
        """
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            name TEXT NOT NULL COLLATE NOCASE,
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            updated_at TEXT NOT NULL,
            UNIQUE (prompt_id, name)
        )
        """,
        "CREATE INDEX labels_by_version ON labels(version_id)",
        """
        CREATE TABLE drafts (
            prompt_id INTEGER PRIMARY KEY REFERENCES prompts(id) ON DELETE CASCADE,
            template TEXT NOT NULL,
            variables TEXT NOT NULL,  -- JSON object
            settings TEXT NOT NULL,  -- JSON object
            content_hash TEXT NOT NULL,
            base_version_id INTEGER,  -- the latest version when the draft was written
            updated_at TEXT NOT NULL
        )
        """,
        # Covers the per-version figures of the history page (run count, best cost/time).
        "DROP INDEX responses_by_run",
        "CREATE INDEX responses_by_run ON responses(run_id, id, status, cost, total_ms)",
        # History is never rewritten: a version is changed by saving a new one, and goes
        # away only with its prompt (the foreign key cascade runs after the prompt row is
        # gone). This also keeps the external-content FTS indexes exact.
        """
        CREATE TRIGGER versions_are_immutable
        BEFORE UPDATE OF prompt_id, template, variables, settings, content_hash ON versions
        BEGIN SELECT RAISE(ABORT, 'A saved version cannot change: save a new one.'); END
        """,
        """
        CREATE TRIGGER versions_go_with_their_prompt BEFORE DELETE ON versions
        WHEN EXISTS (SELECT 1 FROM prompts WHERE id = old.prompt_id)
        BEGIN SELECT RAISE(ABORT, 'Versions are deleted only with their prompt.'); END
        """,
        # -- full-text search ----------------------------------------------------------
        """
        CREATE VIEW current_templates AS
        SELECT p.id AS prompt_id,
               (SELECT v.template FROM versions v WHERE v.prompt_id = p.id
                ORDER BY v.id DESC LIMIT 1) AS template
        FROM prompts p
        """,
        """
        CREATE VIRTUAL TABLE prompts_fts USING fts5(
            name, content='prompts', content_rowid='id', tokenize='trigram', columnsize=0)
        """,
        """
        CREATE VIRTUAL TABLE versions_fts USING fts5(
            template, content='versions', content_rowid='id', tokenize='trigram',
            columnsize=0)
        """,
        """
        CREATE VIRTUAL TABLE current_fts USING fts5(
            template, content='current_templates', content_rowid='prompt_id',
            tokenize='trigram', columnsize=0)
        """,
        """
        CREATE VIRTUAL TABLE responses_fts USING fts5(
            text, content='responses', content_rowid='id', tokenize='trigram',
            columnsize=0)
        """,
        """
        CREATE TRIGGER prompts_fts_insert AFTER INSERT ON prompts BEGIN
            INSERT INTO prompts_fts(rowid, name) VALUES (new.id, new.name);
        END
        """,
        """
        CREATE TRIGGER prompts_fts_rename AFTER UPDATE OF name ON prompts BEGIN
            INSERT INTO prompts_fts(prompts_fts, rowid, name) VALUES ('delete', old.id, old.name);
            INSERT INTO prompts_fts(rowid, name) VALUES (new.id, new.name);
        END
        """,
        """
        CREATE TRIGGER prompts_fts_delete AFTER DELETE ON prompts BEGIN
            INSERT INTO prompts_fts(prompts_fts, rowid, name) VALUES ('delete', old.id, old.name);
        END
        """,
        # BEFORE: the cascade has not yet removed the versions the entry was built from.
        """
        CREATE TRIGGER current_fts_delete BEFORE DELETE ON prompts BEGIN
            INSERT INTO current_fts(current_fts, rowid, template)
            SELECT 'delete', prompt_id, template FROM current_templates
            WHERE prompt_id = old.id AND template IS NOT NULL;
        END
        """,
        """
        CREATE TRIGGER versions_fts_insert AFTER INSERT ON versions BEGIN
            INSERT INTO versions_fts(rowid, template) VALUES (new.id, new.template);
        END
        """,
        # Only when the text changed: a new version that only changes variables or
        # settings (a run on another model) leaves the current template as it was.
        """
        CREATE TRIGGER current_fts_swap AFTER INSERT ON versions
        WHEN new.template IS NOT (SELECT template FROM versions WHERE prompt_id = new.prompt_id
                                  AND id < new.id ORDER BY id DESC LIMIT 1)
        BEGIN
            INSERT INTO current_fts(current_fts, rowid, template)
            SELECT 'delete', prompt_id, template FROM versions
            WHERE prompt_id = new.prompt_id AND id < new.id ORDER BY id DESC LIMIT 1;
            INSERT INTO current_fts(rowid, template) VALUES (new.prompt_id, new.template);
        END
        """,
        """
        CREATE TRIGGER versions_fts_delete AFTER DELETE ON versions BEGIN
            INSERT INTO versions_fts(versions_fts, rowid, template)
            VALUES ('delete', old.id, old.template);
        END
        """,
        """
        CREATE TRIGGER responses_fts_insert AFTER INSERT ON responses BEGIN
            INSERT INTO responses_fts(rowid, text) VALUES (new.id, new.text);
        END
        """,
        """
        CREATE TRIGGER responses_fts_update AFTER UPDATE OF text ON responses BEGIN
            INSERT INTO responses_fts(responses_fts, rowid, text)
            VALUES ('delete', old.id, old.text);
            INSERT INTO responses_fts(rowid, text) VALUES (new.id, new.text);
        END
        """,
        """
        CREATE TRIGGER responses_fts_delete AFTER DELETE ON responses BEGIN
            INSERT INTO responses_fts(responses_fts, rowid, text)
            VALUES ('delete', old.id, old.text);
        END
        """,
    ]
    for statement in statements:
        conn.execute(statement)
    now = conn.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()[0]
    existing = [folder for (folder,) in conn.execute("SELECT DISTINCT folder FROM prompts")]
    for folder in existing:
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            if path:
                conn.execute(
                    "INSERT OR IGNORE INTO folders (path, created_at) VALUES (?, ?)", (path, now)
                )
    rebuild_search_index(conn)


def _step_3_test_cases(conn: sqlite3.Connection) -> None:
    """A prompt's saved variable sets (test cases): they belong to the prompt, not a version,
    so every version can be run on the same set."""
    statements = [
        """
        CREATE TABLE test_cases (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            vars TEXT NOT NULL,  -- JSON object: a value per variable
            description TEXT NOT NULL DEFAULT '',
            expected TEXT,  -- the expected answer, if the user gave one
            asserts TEXT NOT NULL DEFAULT '[]',  -- JSON list of promptfoo-style assertions
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX test_cases_by_prompt ON test_cases(prompt_id, position, id)",
    ]
    for statement in statements:
        conn.execute(statement)


def _step_4_evaluations(conn: sqlite3.Connection) -> None:
    """Evaluations of a version on its prompt's cases, the answer cache, and the checks
    that apply to every case of a prompt."""
    statements = [
        """
        CREATE TABLE eval_runs (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            columns TEXT NOT NULL,  -- JSON list: key, label, model, base_url, params
            cases TEXT NOT NULL,  -- JSON list: the cases as they were run
            settings TEXT NOT NULL DEFAULT '{}',  -- JSON: checks for all cases, judge, fresh
            status TEXT NOT NULL,  -- 'done' | 'cancelled'
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX eval_runs_by_prompt ON eval_runs(prompt_id, id)",
        """
        CREATE TABLE eval_results (
            id INTEGER PRIMARY KEY,
            eval_run_id INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
            case_key TEXT NOT NULL,
            column_key TEXT NOT NULL,
            status TEXT NOT NULL,
            text TEXT NOT NULL,
            error TEXT,
            latency_ms REAL,
            ttft_ms REAL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cost REAL,
            cached INTEGER NOT NULL DEFAULT 0,
            grades TEXT NOT NULL DEFAULT '[]'  -- JSON list: grader, passed, score, reason
        )
        """,
        "CREATE INDEX eval_results_by_run ON eval_results(eval_run_id, id)",
        """
        CREATE TABLE response_cache (
            key TEXT PRIMARY KEY,  -- sha256 of endpoint URL, model, parameters, messages
            model TEXT NOT NULL,
            text TEXT NOT NULL,
            finish_reason TEXT,
            ttft_ms REAL,
            total_ms REAL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            usage_estimated INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE eval_settings (
            prompt_id INTEGER PRIMARY KEY REFERENCES prompts(id) ON DELETE CASCADE,
            asserts TEXT NOT NULL DEFAULT '[]',  -- JSON list: checks for every case
            judge_prompt TEXT,  -- the edited judge prompt; NULL: the default one
            judge_column TEXT,  -- the run column whose model judges; NULL: the first
            updated_at TEXT NOT NULL
        )
        """,
    ]
    for statement in statements:
        conn.execute(statement)


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


FTS_TABLES = ("prompts_fts", "versions_fts", "current_fts", "responses_fts")


def rebuild_search_index(conn: sqlite3.Connection) -> None:
    """Re-read every indexed text from its table (after a migration or a recovery)."""
    for table in FTS_TABLES:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")


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


def schema_version() -> int:
    """The newest schema this build knows."""
    return len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_compatible(conn: sqlite3.Connection, *, where: str = "The library") -> None:
    """Refuse a file written by a newer PromptStudio or by another program.

    Opening a newer schema could silently lose data the newer version relies on, and
    migrating a stranger's database would add our tables to it.
    """
    version = user_version(conn)
    if version > schema_version():
        raise StorageError(
            f"{where} was written by a newer version of PromptStudio (schema {version}; "
            f"this version knows up to {schema_version()}). Update PromptStudio to open it."
        )
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise StorageError(f"{where} is an SQLite database of another application.")
    if version == 0:
        (objects,) = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchone()
        if objects:
            raise StorageError(f"{where} is an SQLite database that PromptStudio did not create.")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to :func:`schema_version`; return how many steps ran."""
    check_compatible(conn)
    applied = 0
    for number, step in enumerate(MIGRATIONS, start=1):
        if user_version(conn) >= number:
            continue
        with transaction(conn):
            # Read again under the write lock: another process may have migrated meanwhile.
            if user_version(conn) >= number:
                continue
            logger.info("Migrating the library schema to version %d", number)
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
        applied += 1
    return applied


def missing_parts(conn: sqlite3.Connection) -> list[str]:
    """Tables, views, columns, indexes and triggers of the current schema the file lacks.

    The schema is text inside the file (``sqlite_master``): a damaged byte there can
    rename a column or a table while every page still passes ``PRAGMA quick_check``, and
    reads then fail with "no such column". Compared by name with a fresh library's.
    """
    found = _shape(conn)
    problems = []
    for name, columns in _expected_shape().items():
        if name not in found:
            problems.append(f"the schema lacks the {name}")
        elif lost := sorted(columns - found[name]):
            problems.append(f"the schema's {name} lacks the column(s) {', '.join(lost)}")
    return problems


@functools.cache
def _expected_shape() -> dict[str, frozenset[str]]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn)
        return _shape(conn)
    finally:
        conn.close()


def _shape(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """``"table NAME"`` (``"view NAME"``...) -> its column names (none for indexes, triggers)."""
    shape: dict[str, frozenset[str]] = {}
    for kind, name in conn.execute("SELECT type, name FROM sqlite_master").fetchall():
        columns: frozenset[str] = frozenset()
        if kind in ("table", "view"):
            # A definition that cannot be read leaves every expected column missing.
            with contextlib.suppress(sqlite3.DatabaseError):
                columns = frozenset(row[1] for row in conn.execute(f'PRAGMA table_info("{name}")'))
        shape[f"{kind} {name}"] = columns
    return shape
