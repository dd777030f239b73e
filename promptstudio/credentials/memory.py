"""A keyring backend that keeps secrets in a dict, for tests."""

from __future__ import annotations

import keyring.backend
import keyring.errors


class InMemoryKeyring(keyring.backend.KeyringBackend):
    """Secrets in process memory: the test suite's keychain.

    ``viable = False`` keeps it out of keyring's automatic backend choice: every concrete
    backend class registers itself, and a priority-1 in-memory store would otherwise beat
    ``fail.Keyring`` on a headless machine and silently lose keys at exit. Install it
    explicitly with ``keyring.set_keyring(InMemoryKeyring())``.
    """

    priority = 1
    viable = False

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self._secrets[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(
                f"No secret stored for {username!r} in {service!r}"
            ) from None
