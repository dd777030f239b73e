"""InMemoryKeyring passes keyring's own conformance suite and stays out of auto-detection."""

from __future__ import annotations

import keyring.backend
from keyring.testing.backend import BackendBasicTests

from promptstudio.credentials import InMemoryKeyring


class TestInMemory(BackendBasicTests):
    """Every test of the suite applies: the backend implements get, set and delete."""

    def init_keyring(self) -> InMemoryKeyring:
        return InMemoryKeyring()


def test_priority_is_one_but_never_chosen_automatically() -> None:
    assert InMemoryKeyring.priority == 1
    viable = set(keyring.backend.KeyringBackend.get_viable_backends())
    assert InMemoryKeyring not in viable
