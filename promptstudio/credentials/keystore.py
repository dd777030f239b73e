"""API keys in the system keychain, with a per-session fallback and environment variables.

Keys are never written to a file by PromptStudio. When no keychain is available (a
headless Linux box without Secret Service picks ``keyring.backends.fail.Keyring``) a key
the user enters lives in this process's memory until it exits, and the caller is told so
(:data:`KeyLocation` ``"session"``) to tell the user. Environment variables such as
``OPENAI_API_KEY`` are honoured after stored keys.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from promptstudio.credentials.env import env_var_for
from promptstudio.errors import PromptStudioError

logger = logging.getLogger(__name__)

KeyLocation = Literal["keychain", "session"]
KeySource = Literal["keychain", "session", "environment", "none"]

_PROBE_ACCOUNT = "promptstudio-probe"


def _keyring() -> ModuleType:
    """``keyring``, imported on first use: it scans its backends' entry points, which
    costs ~60 ms that the window's first paint should not wait for."""
    import keyring
    import keyring.backends.fail
    import keyring.backends.null
    import keyring.errors

    return keyring


def _unusable(backend: object) -> bool:
    """A backend that accepts nothing (fail) or silently drops everything (null)."""
    import keyring.backends.fail
    import keyring.backends.null

    return isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring)


class CredentialError(PromptStudioError):
    """The keychain refused an operation whose failure the user must know about."""


def account_for(base_url: str) -> str:
    """The keychain account for an endpoint: its base URL without a trailing slash."""
    return base_url.strip().rstrip("/")


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """The key to use for an endpoint and where it came from (for the UI to show)."""

    value: str | None
    source: KeySource
    env_var: str | None = None

    def __repr__(self) -> str:
        shown = "None" if self.value is None else "'***'"
        return f"ResolvedKey(value={shown}, source={self.source!r}, env_var={self.env_var!r})"

    __str__ = __repr__


class KeyStore:
    """Keys by endpoint, stored under service :attr:`SERVICE` in whatever keyring is active.

    The backend is looked up at each call (``keyring.get_keyring()``), so tests and the
    user's keyring configuration take effect without rebuilding the store.
    """

    SERVICE = "promptstudio"

    def __init__(self) -> None:
        # Keys kept for this process only, when the keychain could not take them.
        self._session: dict[str, str] = {}

    def backend_available(self) -> bool:
        """Whether keys can persist in a keychain beyond this session."""
        keyring = _keyring()
        backend = keyring.get_keyring()
        if _unusable(backend):
            return False
        try:
            backend.get_password(self.SERVICE, _PROBE_ACCOUNT)
        except keyring.errors.NoKeyringError:
            return False
        except keyring.errors.KeyringError as exc:
            # A locked keychain still exists: setting a key will prompt to unlock it.
            logger.debug("Keychain probe failed: %s", type(exc).__name__)
        return True

    def get(self, account: str) -> str | None:
        keyring = _keyring()
        account = account_for(account)
        if account in self._session:
            return self._session[account]
        try:
            return keyring.get_keyring().get_password(self.SERVICE, account)
        except keyring.errors.NoKeyringError:
            # The normal state of a headless box; the UI says so where keys are entered.
            logger.debug("No keychain to read a key from")
            return None
        except keyring.errors.KeyringError as exc:
            logger.warning("Could not read a key from the keychain: %s", type(exc).__name__)
            return None

    def set(self, account: str, secret: str) -> KeyLocation:
        """Store ``secret`` (surrounding whitespace removed); say where it went."""
        keyring = _keyring()
        account = account_for(account)
        secret = secret.strip()
        if not secret:
            raise CredentialError("An empty API key cannot be saved; remove the key instead.")
        backend = keyring.get_keyring()
        if not _unusable(backend):
            try:
                backend.set_password(self.SERVICE, account, secret)
            except keyring.errors.KeyringError as exc:
                logger.warning(
                    "The keychain refused the key for %s (%s); keeping it for this session only",
                    account,
                    type(exc).__name__,
                )
            else:
                self._session.pop(account, None)
                return "keychain"
        else:
            logger.warning(
                "No keychain is available; the key for %s is kept for this session only",
                account,
            )
        self._session[account] = secret
        return "session"

    def delete(self, account: str) -> None:
        """Forget the key everywhere we keep it; a missing key is not an error."""
        keyring = _keyring()
        account = account_for(account)
        self._session.pop(account, None)
        backend = keyring.get_keyring()
        if _unusable(backend):
            return
        try:
            backend.delete_password(self.SERVICE, account)
        except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError):
            pass  # nothing stored there
        except keyring.errors.KeyringError as exc:
            raise CredentialError(
                f"Could not remove the key for {account} from the keychain "
                f"({type(exc).__name__}). Remove it with your keychain manager."
            ) from exc

    def resolve(self, base_url: str) -> ResolvedKey:
        """The key for an endpoint: a stored one first, then the provider's env variable."""
        account = account_for(base_url)
        env_var = env_var_for(account)
        if account in self._session:
            return ResolvedKey(self._session[account], "session", env_var)
        stored = self.get(account)
        if stored:
            return ResolvedKey(stored, "keychain", env_var)
        if env_var:
            value = os.environ.get(env_var, "").strip()
            if value:
                return ResolvedKey(value, "environment", env_var)
        return ResolvedKey(None, "none", env_var)
