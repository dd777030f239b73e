"""A keyring backend that is not secure (a plain file) is treated as no keychain at all."""

from __future__ import annotations

import logging
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.chainer
import pytest

from promptstudio.credentials import InMemoryKeyring, KeyStore, ResolvedKey

SENTINEL = "sk-test-SENTINEL-plaintext-0123456789abcdef"
OPENAI = "https://api.openai.com/v1"


class FileKeyring(keyring.backend.KeyringBackend):
    """A low-priority backend that writes secrets to a file, like keyrings.alt's."""

    priority = 0.5
    viable = False  # never chosen automatically in other tests

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def get_password(self, service: str, username: str) -> str | None:
        if not self.path.exists():
            return None
        for line in self.path.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == f"{service}/{username}":
                return value
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        with self.path.open("a") as handle:
            handle.write(f"{service}/{username}={password}\n")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("not stored")


def _files_with(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def _check_not_used(store: KeyStore, name: str, caplog: pytest.LogCaptureFixture) -> None:
    problem = store.keychain_problem()
    assert problem is not None and name in problem and "not secure" in problem
    assert not store.backend_available()
    with caplog.at_level(logging.WARNING, logger="promptstudio"):
        assert store.set(OPENAI, SENTINEL) == "session"
    assert name in caplog.text and "session only" in caplog.text
    assert SENTINEL not in caplog.text
    assert store.resolve(OPENAI) == ResolvedKey(SENTINEL, "session", "OPENAI_API_KEY")
    assert KeyStore().get(OPENAI) is None  # nothing outlives the session


def test_real_plaintext_keyring_is_not_a_keychain(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alt = pytest.importorskip("keyrings.alt.file", reason="keyrings.alt is a dev dependency")
    backend = alt.PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    _check_not_used(KeyStore(), "PlaintextKeyring", caplog)
    assert _files_with(tmp_path, SENTINEL) == []


def test_a_low_priority_file_backend_is_not_a_keychain(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"promptstudio/{OPENAI}=old-key-someone-put-there\n")
    keyring.set_keyring(FileKeyring(path))
    store = KeyStore()
    assert store.get(OPENAI) is None  # not read either: it is no keychain
    _check_not_used(store, "FileKeyring", caplog)
    assert _files_with(tmp_path, SENTINEL) == []


def test_a_chainer_of_insecure_backends_is_not_a_keychain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    insecure = FileKeyring(tmp_path / "keys.txt")
    chainer = keyring.backends.chainer.ChainerBackend()
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [insecure])
    keyring.set_keyring(chainer)
    store = KeyStore()
    problem = store.keychain_problem()
    assert problem is not None and "FileKeyring" in problem
    assert store.set(OPENAI, SENTINEL) == "session"
    assert _files_with(tmp_path, SENTINEL) == []
    # With a secure keychain first in the chain, keys go there.
    secure = InMemoryKeyring()
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [secure, insecure])
    assert store.keychain_problem() is None
    assert store.set(OPENAI, SENTINEL) == "keychain"
    assert secure.get_password(KeyStore.SERVICE, OPENAI) == SENTINEL
    assert _files_with(tmp_path, SENTINEL) == []


def test_the_secure_in_memory_keychain_is_still_used() -> None:
    assert KeyStore().keychain_problem() is None
    assert KeyStore().set(OPENAI, SENTINEL) == "keychain"
