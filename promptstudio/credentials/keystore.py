"""API keys in the system keychain, with a per-session fallback and environment variables.

Keys are never written to a file by PromptStudio. When no keychain is available (a
headless Linux box without Secret Service picks ``keyring.backends.fail.Keyring``) a key
the user enters lives in this process's memory until it exits, and the caller is told so
(:data:`KeyLocation` ``"session"``) to tell the user. A backend that keyring itself rates
as not secure (``priority`` below 1, such as keyrings.alt's ``PlaintextKeyring``, which
writes keys to a plain file) counts as no keychain: :meth:`KeyStore.keychain_problem`
names it and says why. Environment variables such as ``OPENAI_API_KEY`` are honoured
after stored keys; a profile may name its own variable (``key_env``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

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


def warm_up() -> None:
    """Import ``keyring`` and let it choose its backend (it scans the entry points of
    every installed backend), so the first key lookup does not pay for it. ``run_app``
    calls this on a thread of its own while the window is being built."""
    try:
        _keyring().get_keyring()
    except Exception:  # the lookup that needs it reports the problem
        logger.debug("keyring warm-up failed", exc_info=True)


# keyring's own scale: 1 and above is a real keychain; below 1 is "not recommended"
# (plain-text or weakly protected files), 0 and below cannot store at all.
SECURE_PRIORITY = 1.0


def _unusable(backend: object) -> bool:
    """A backend that accepts nothing (fail) or silently drops everything (null)."""
    import keyring.backends.fail
    import keyring.backends.null

    return isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring)


def _priority(backend: object) -> float:
    try:
        return float(getattr(backend, "priority", 0.0))
    except Exception:  # a backend's priority property may raise when it is unavailable
        return 0.0


def _backend_name(backend: object) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def _insecure_reason(backend: object) -> str | None:
    """Why ``backend`` must not hold keys (it is not secure), or None when it may."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        chained = list(backend.backends)
        # keys go to the first backend (highest priority) that takes them
        if chained and _priority(chained[0]) >= SECURE_PRIORITY:
            return None
        names = ", ".join(_backend_name(b) for b in chained) or "nothing"
        return (
            f"the active keyring backend, {_backend_name(backend)}, chains only backends "
            f"that are not secure: {names}"
        )
    priority = _priority(backend)
    if priority >= SECURE_PRIORITY:
        return None
    return (
        f"the active keyring backend, {_backend_name(backend)}, is not secure: it keeps keys "
        f"in a plain or weakly protected file (keyring rates it {priority:g}, below 1)"
    )


class CredentialError(PromptStudioError):
    """The keychain refused an operation whose failure the user must know about."""


class KeychainUnavailable(CredentialError):
    """No keychain took the key and none is kept for the session; the message says why
    (a sentence without its full stop, like :meth:`KeyStore.keychain_problem`)."""


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
        """Whether keys can persist in a secure keychain beyond this session."""
        return self.keychain_problem() is None

    def keychain_problem(self) -> str | None:
        """Why keys cannot go to a keychain (a sentence without its full stop), or None.

        The UI and CLI follow it with what happens instead ("a typed key is kept for this
        session only").
        """
        keyring = _keyring()
        backend = keyring.get_keyring()
        if _unusable(backend):
            return "No OS keychain is available"
        insecure = _insecure_reason(backend)
        if insecure is not None:
            return f"No secure OS keychain is available — {insecure}"
        try:
            backend.get_password(self.SERVICE, _PROBE_ACCOUNT)
        except keyring.errors.NoKeyringError:
            return "No OS keychain is available"
        except keyring.errors.KeyringError as exc:
            # A locked keychain still exists: setting a key will prompt to unlock it.
            logger.debug("Keychain probe failed: %s", type(exc).__name__)
        return None

    def _keychain(self) -> Any:
        """The active backend when keys may go there (secure and able to store)."""
        backend = _keyring().get_keyring()
        if _unusable(backend) or _insecure_reason(backend) is not None:
            return None
        return backend

    def get(self, account: str) -> str | None:
        keyring = _keyring()
        account = account_for(account)
        if account in self._session:
            return self._session[account]
        backend = self._keychain()
        if backend is None:
            return None  # an insecure file backend is not read either: it is no keychain
        try:
            return backend.get_password(self.SERVICE, account)
        except keyring.errors.NoKeyringError:
            # The normal state of a headless box; the UI says so where keys are entered.
            logger.debug("No keychain to read a key from")
            return None
        except keyring.errors.KeyringError as exc:
            logger.warning("Could not read a key from the keychain: %s", type(exc).__name__)
            return None

    def set(self, account: str, secret: str, *, for_session: bool = True) -> KeyLocation:
        """Store ``secret`` (surrounding whitespace removed); say where it went.

        When no keychain takes it, the key is kept for this session (logged once), or with
        ``for_session=False`` (the CLI, which keeps nothing between runs) not kept at all:
        :class:`KeychainUnavailable` says why, and nothing is logged besides.
        """
        keyring = _keyring()
        account = account_for(account)
        secret = secret.strip()
        if not secret:
            raise CredentialError("An empty API key cannot be saved; remove the key instead.")
        backend = self._keychain()
        if backend is None:
            problem = self.keychain_problem() or "No OS keychain is available"
        else:
            try:
                backend.set_password(self.SERVICE, account, secret)
            except keyring.errors.KeyringError as exc:
                problem = f"The keychain refused the key ({type(exc).__name__})"
            else:
                self._session.pop(account, None)
                return "keychain"
        if not for_session:
            raise KeychainUnavailable(problem)
        logger.warning("%s; the key for %s is kept for this session only", problem, account)
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

    def resolve(self, base_url: str, *, key_env: str = "") -> ResolvedKey:
        """The key for an endpoint: a stored one first, then an environment variable.

        ``key_env`` is the variable a profile names for its own key (a custom endpoint's
        way to get a key in a headless shell); the caller passes it only for that
        profile. Otherwise the hosted provider's conventional variable, for its exact host.
        """
        account = account_for(base_url)
        env_var = key_env.strip() or env_var_for(account)
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
