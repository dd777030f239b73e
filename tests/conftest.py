"""Fixtures shared by every test.

Tests run headless (offscreen Qt), each with its own data dir, an in-memory keyring and no
provider keys from the environment, so no test can touch the user's data, keychain or the
internet.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import keyring
import pytest
from hypothesis import HealthCheck, settings

from promptstudio.credentials import ENV_KEY_VARS, InMemoryKeyring
from tests.fake_llm import FakeLLM

# Hypothesis profiles (docs/TESTING.md). "ci", the default, keeps the fuzzing in
# tests/fuzz/ to about a minute and is derandomized, so a run never fails by chance;
# "release" (HYPOTHESIS_PROFILE=release) explores far more inputs, each run new ones,
# and keeps what it found in .hypothesis/ to replay first next time.
settings.register_profile(
    "ci",
    max_examples=80,
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "release",
    max_examples=1000,
    deadline=timedelta(seconds=10),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets a fresh data dir; real provider keys are hidden from it."""
    home = tmp_path / "home"
    monkeypatch.setenv("PROMPTSTUDIO_HOME", str(home))
    for name in ENV_KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def logging_levels() -> Iterator[None]:
    """A test that configures logging (as the app does) leaves the levels as it found them,
    so a later test that captures log records sees only its own."""
    loggers = [logging.getLogger(), logging.getLogger("promptstudio")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[InMemoryKeyring]:
    """The only fake allowed for the keychain: an in-memory keyring backend."""
    previous = keyring.get_keyring()
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A real HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions API."""
    server = FakeLLM()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def qloop(qapp):
    """A qasync event loop running inside pytest-qt's QApplication."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    # The loop "already runs" (pytest-qt's), so it can't be closed; own its executor
    # (asyncio.to_thread) here and shut it down, or a QThread outlives the test.
    executor = qasync.QThreadExecutor(2)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    executor.shutdown(wait=True)
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
