"""The first four steps of the library schema: the tables it was born with.

Prompts with their versions, runs and responses (1); stars, tags, folders, labels, drafts
and full-text search (2); test cases (3); evaluations, the answer cache and a prompt's
checks (4). They hold most of the schema's SQL, so they live apart from the later steps in
:mod:`promptstudio.storage.migrations`, which lists every step in order. Released steps
never change.
"""

from __future__ import annotations

import sqlite3

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


FTS_TABLES = ("prompts_fts", "versions_fts", "current_fts", "responses_fts")


def rebuild_search_index(conn: sqlite3.Connection) -> None:
    """Re-read every indexed text from its table (after a migration or a recovery)."""
    for table in FTS_TABLES:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
