"""API keys: the system keychain behind a small interface, env-var fallback, log redaction.

Keys never reach the library database or a file we write; see :mod:`.keystore`.
"""

from typing import TYPE_CHECKING

from promptstudio.credentials.env import ENV_KEY_VARS, env_var_for
from promptstudio.credentials.keystore import (
    CredentialError,
    KeychainUnavailable,
    KeyLocation,
    KeySource,
    KeyStore,
    ResolvedKey,
    account_for,
)
from promptstudio.credentials.redaction import SecretRedactingFilter, install_redaction, redact

if TYPE_CHECKING:
    from promptstudio.credentials.memory import InMemoryKeyring


def __getattr__(name: str) -> object:
    """``InMemoryKeyring`` on first use: it imports ``keyring``, which start-up avoids."""
    if name == "InMemoryKeyring":
        from promptstudio.credentials.memory import InMemoryKeyring

        return InMemoryKeyring
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ENV_KEY_VARS",
    "CredentialError",
    "InMemoryKeyring",
    "KeyLocation",
    "KeySource",
    "KeyStore",
    "KeychainUnavailable",
    "ResolvedKey",
    "SecretRedactingFilter",
    "account_for",
    "env_var_for",
    "install_redaction",
    "redact",
]
