"""API keys: the system keychain behind a small interface, env-var fallback, log redaction.

Keys never reach the library database or a file we write; see :mod:`.keystore`.
"""

from promptstudio.credentials.env import ENV_KEY_VARS, env_var_for
from promptstudio.credentials.keystore import (
    CredentialError,
    KeyLocation,
    KeySource,
    KeyStore,
    ResolvedKey,
    account_for,
)
from promptstudio.credentials.memory import InMemoryKeyring
from promptstudio.credentials.redaction import SecretRedactingFilter, install_redaction, redact

__all__ = [
    "ENV_KEY_VARS",
    "CredentialError",
    "InMemoryKeyring",
    "KeyLocation",
    "KeySource",
    "KeyStore",
    "ResolvedKey",
    "SecretRedactingFilter",
    "account_for",
    "env_var_for",
    "install_redaction",
    "redact",
]
