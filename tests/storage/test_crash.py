"""SIGKILL a writer at random moments: the file stays sound and no acknowledged write is lost.

A writer process saves versions in a loop and prints each id after its commit returned
(tests/storage/crash_writer.py). The test kills it at random points, half of the time
before it even finished opening (or migrating) the library, then checks the file with a
plain connection and, every other time, reopens it through ``Database`` as the app would.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptstudio.storage import Database, library
from promptstudio.storage.database import FULL_CHECK_MAX_BYTES

WRITER = Path(__file__).with_name("crash_writer.py")
KILLS = 50


def _acknowledged(output: bytes) -> set[int]:
    """Ids on complete lines; a line cut by the kill was never acknowledged."""
    lines = output.decode().split("\n")[:-1]
    return {int(line) for line in lines}


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_killed_writers_never_lose_acknowledged_versions(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    rng = random.Random(20261122)
    promised: set[int] = set()
    kills_mid_write = 0
    for attempt in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), str(attempt)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert writer.stdout is not None
        first = b""
        if attempt % 2:
            first = writer.stdout.readline()  # it is writing now
            assert first, writer.stderr.read() if writer.stderr else ""
            time.sleep(rng.uniform(0, 0.03))
        else:
            time.sleep(rng.uniform(0.02, 0.25))  # perhaps still starting or migrating
        writer.send_signal(signal.SIGKILL)
        rest, errors = writer.communicate()
        assert writer.returncode == -signal.SIGKILL, errors.decode()
        acknowledged = _acknowledged(first + rest)
        kills_mid_write += bool(acknowledged)
        promised |= acknowledged
        if not path.exists():
            assert not promised
            continue

        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            migrated = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'versions'"
            ).fetchone()  # killed before the first migration committed: no tables yet
            stored = (
                {vid for (vid,) in conn.execute("SELECT id FROM versions")} if migrated else set()
            )
        finally:
            conn.close()
        assert promised <= stored, f"lost after kill {attempt}: {sorted(promised - stored)[:5]}"

        if attempt % 2:
            # A file over the limit whose WAL the checkpoint left empty gets the quick check
            # (as the app does); every smaller one gets the full check.
            small = path.stat().st_size <= FULL_CHECK_MAX_BYTES
            with Database(path) as db:
                assert db.recovery is None
                assert db.fully_checked or not small
                versions = db.call(library.list_versions, 1)
                assert [v.number for v in versions] == list(range(len(versions), 0, -1))
    assert kills_mid_write >= KILLS // 2
    assert len(promised) > 100
