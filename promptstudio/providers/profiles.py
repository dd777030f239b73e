"""Provider profiles: where a model server is and how to talk to it, never its key.

A profile names a server (OpenAI, Anthropic, a local Ollama, ...), its kind (which SDK
speaks to it), its base URL, extra headers, the API to use (see ``providers.apis``),
the keychain account its key is stored under (``promptstudio.credentials.KeyStore``; the
base URL by default, as the key store normalises it) and optionally the name of an
environment variable that holds its key (``key_env``, for a headless shell; the variable's
name, never its value). The key itself never enters a profile: headers that carry
credentials (``Authorization``, ``x-api-key``, ...) and URLs with a user or password are
refused. Other header values may still be sensitive, so they
are never shown in a repr or logged.

:data:`PRESETS` are the servers people use most; ``settings.profiles.ProfileStore`` keeps
user profiles and overrides next to them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from promptstudio.errors import PromptStudioError
from promptstudio.providers.apis import API_CHOICES, KINDS
from promptstudio.providers.base import Endpoint

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Headers that carry credentials: keys belong in the keychain.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)
_SECRET_FIELD = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)
_FIELDS = ("id", "kind", "name", "base_url", "key_account", "extra_headers", "api", "needs_key",
           "max_concurrent", "key_env")  # fmt: skip
MAX_CONCURRENT = 64
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class ProfileError(PromptStudioError):
    """A profile, or the set of profiles, cannot be used as given."""


class InvalidProfile(ProfileError):
    """One field of a profile is wrong; ``field`` names it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class SecretInProfile(InvalidProfile):
    """Something key-shaped was offered for a profile: keys go to the keychain."""


class DuplicateProfile(ProfileError):
    """Another profile already has this id."""


class UnknownProfile(ProfileError):
    """No profile has this id."""


def normalise_base_url(base_url: str) -> str:
    """The base URL as stored and used as the default key account (no trailing slash)."""
    return base_url.strip().rstrip("/")


@dataclass(frozen=True)
class ProviderProfile:
    """One model server. Validated on creation; raises :class:`InvalidProfile`.

    ``key_account`` defaults to the normalised base URL. ``needs_key`` is False for local
    servers that take any key (the UI then does not ask for one). ``max_concurrent`` is how
    many requests the server gets at once (None: 1 for a server on this machine, no limit
    for a hosted one; see ``runs.limits``). ``key_env`` names an
    environment variable whose value is this profile's key (used for this profile only).
    """

    id: str
    kind: str
    name: str
    base_url: str
    key_account: str = ""
    extra_headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    api: str = "auto"
    needs_key: bool = True
    max_concurrent: int | None = None
    key_env: str = ""

    def __post_init__(self) -> None:
        base_url = normalise_base_url(self.base_url)
        object.__setattr__(self, "base_url", base_url)
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "key_account", self.key_account.strip() or base_url)
        object.__setattr__(self, "extra_headers", dict(self.extra_headers))
        object.__setattr__(self, "key_env", self.key_env.strip().removeprefix("$"))
        _validate(self)

    def __repr__(self) -> str:  # header values may be sensitive: names only
        return (
            f"ProviderProfile(id={self.id!r}, kind={self.kind!r}, name={self.name!r}, "
            f"base_url={self.base_url!r}, api={self.api!r}, "
            f"headers={sorted(self.extra_headers)!r})"
        )

    def to_endpoint(
        self,
        api_key: str | None,
        *,
        connect_timeout: float | None = None,
        first_token_timeout: float | None = None,
        idle_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Endpoint:
        """The in-memory endpoint for a run; timeouts left None keep Endpoint's defaults."""
        options: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "first_token_timeout": first_token_timeout,
            "idle_timeout": idle_timeout,
            "max_retries": max_retries,
        }
        return Endpoint(
            base_url=self.base_url,
            api_key=api_key or None,
            kind=self.kind,
            name=self.name,
            extra_headers=dict(self.extra_headers),
            api=self.api,
            max_concurrent=self.max_concurrent,
            **{k: v for k, v in options.items() if v is not None},
        )

    def with_changes(self, **changes: Any) -> ProviderProfile:
        """A validated copy with ``changes`` applied."""
        follows_url = self.key_account == self.base_url  # the default follows the URL
        if "base_url" in changes and "key_account" not in changes and follows_url:
            changes["key_account"] = ""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the key account is kept only when it differs from the default."""
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "base_url": self.base_url,
        }
        if self.key_account != self.base_url:
            data["key_account"] = self.key_account
        if self.extra_headers:
            data["extra_headers"] = dict(self.extra_headers)
        if self.api != "auto":
            data["api"] = self.api
        if not self.needs_key:
            data["needs_key"] = False
        if self.max_concurrent is not None:
            data["max_concurrent"] = self.max_concurrent
        if self.key_env:
            data["key_env"] = self.key_env
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProviderProfile:
        """A profile from stored data; refuses key-shaped fields, ignores unknown others."""
        if not isinstance(data, Mapping):
            raise InvalidProfile("A profile must be a JSON object.", field="")
        for name in data:
            if name not in _FIELDS and _SECRET_FIELD.search(str(name)):
                raise SecretInProfile(
                    f"Profile field '{name}' looks like a key. Keys are not stored in "
                    "profiles; they go to the system keychain.",
                    field=str(name),
                )
        for name in ("id", "kind", "name", "base_url"):
            if not isinstance(data.get(name), str):
                raise InvalidProfile(f"The profile needs a text '{name}'.", field=name)
        key_env = data.get("key_env") or ""
        if not isinstance(key_env, str):
            raise InvalidProfile("'key_env' must name an environment variable.", field="key_env")
        headers = data.get("extra_headers") or {}
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise InvalidProfile(
                "Extra headers must map header names to text values.", field="extra_headers"
            )
        return cls(
            id=data["id"],
            kind=data["kind"],
            name=data["name"],
            base_url=data["base_url"],
            key_account=str(data.get("key_account") or ""),
            extra_headers=dict(headers),
            api=str(data.get("api") or "auto"),
            needs_key=bool(data.get("needs_key", True)),
            max_concurrent=data.get("max_concurrent"),
            key_env=key_env,
        )


def _validate(profile: ProviderProfile) -> None:
    if not _SLUG.match(profile.id):
        raise InvalidProfile(
            f"Profile id '{profile.id}' must be 1-63 lower-case letters, digits or dashes, "
            "starting with a letter or digit.",
            field="id",
        )
    if profile.kind not in KINDS:
        raise InvalidProfile(
            f"Unknown provider kind '{profile.kind}': choose {', '.join(KINDS)}.", field="kind"
        )
    if not profile.name:
        raise InvalidProfile("The profile needs a name.", field="name")
    if profile.api not in API_CHOICES:
        raise InvalidProfile(
            f"Unknown API '{profile.api}': choose {', '.join(API_CHOICES)}.", field="api"
        )
    if profile.kind == "anthropic" and profile.api != "auto":
        raise InvalidProfile(
            "Anthropic profiles speak the Messages API; set the API to auto.", field="api"
        )
    limit = profile.max_concurrent
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CONCURRENT
    ):
        raise InvalidProfile(
            f"Requests at once must be a whole number from 1 to {MAX_CONCURRENT}, or empty "
            "for the default.",
            field="max_concurrent",
        )
    _validate_url(profile.base_url)
    for name, value in profile.extra_headers.items():
        _validate_header(name, value)
    if profile.key_env:
        _validate_key_env(profile.key_env)


def _validate_key_env(name: str) -> None:
    """An environment variable's name: the key itself must never be stored here."""
    looks_like_key = len(name) >= 24 and "_" not in name and not name.isupper()
    if looks_like_key or not _ENV_NAME.match(name):
        error = SecretInProfile if looks_like_key or "-" in name else InvalidProfile
        raise error(
            "The key variable must be the NAME of an environment variable (letters, digits "
            "and _, e.g. MY_PROXY_KEY), not the key itself.",
            field="key_env",
        )


def _validate_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidProfile(
            f"The base URL '{url}' is malformed ({exc}).", field="base_url"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidProfile(
            f"The base URL '{url}' must start with http:// or https://.", field="base_url"
        )
    if not parts.hostname:
        raise InvalidProfile(f"The base URL '{url}' has no host name.", field="base_url")
    if parts.username or parts.password:
        raise SecretInProfile(
            "The base URL must not contain a user name or password; keys go to the system "
            "keychain.",
            field="base_url",
        )
    if parts.query or parts.fragment:
        raise InvalidProfile(
            "The base URL must not have a query string or fragment (keys never go in URLs).",
            field="base_url",
        )
    if any(ch.isspace() for ch in url):
        raise InvalidProfile(f"The base URL '{url}' contains spaces.", field="base_url")
    del port


def _validate_header(name: str, value: str) -> None:
    if not _HEADER_NAME.match(name):
        raise InvalidProfile(f"'{name}' is not a valid header name.", field="extra_headers")
    if name.lower() in CREDENTIAL_HEADERS:
        raise SecretInProfile(
            f"The {name} header carries credentials and is not stored in profiles; the key "
            "goes to the system keychain and is sent for you.",
            field="extra_headers",
        )
    if any(ch in value for ch in "\r\n\0"):
        raise InvalidProfile(
            f"The value of header {name} must be a single line.", field="extra_headers"
        )


def _preset(
    id: str, name: str, kind: str, base_url: str, *, needs_key: bool = True
) -> ProviderProfile:
    return ProviderProfile(id=id, kind=kind, name=name, base_url=base_url, needs_key=needs_key)


PRESETS: tuple[ProviderProfile, ...] = (
    _preset("openai", "OpenAI", "openai", "https://api.openai.com/v1"),
    # The anthropic SDK adds /v1 itself.
    _preset("anthropic", "Anthropic", "anthropic", "https://api.anthropic.com"),
    _preset("ollama", "Ollama", "openai-compatible", "http://localhost:11434/v1", needs_key=False),
    _preset(
        "lm-studio", "LM Studio", "openai-compatible", "http://localhost:1234/v1", needs_key=False
    ),
    _preset(
        "llama-cpp",
        "llama.cpp server",
        "openai-compatible",
        "http://localhost:8080/v1",
        needs_key=False,
    ),
    _preset("vllm", "vLLM", "openai-compatible", "http://localhost:8000/v1", needs_key=False),
    _preset("openrouter", "OpenRouter", "openai-compatible", "https://openrouter.ai/api/v1"),
    _preset("groq", "Groq", "openai-compatible", "https://api.groq.com/openai/v1"),
    _preset("together", "Together AI", "openai-compatible", "https://api.together.xyz/v1"),
    _preset("mistral", "Mistral", "openai-compatible", "https://api.mistral.ai/v1"),
    _preset("deepseek", "DeepSeek", "openai-compatible", "https://api.deepseek.com/v1"),
    _preset(
        "gemini",
        "Gemini (OpenAI-compatible)",
        "openai-compatible",
        "https://generativelanguage.googleapis.com/v1beta/openai",
    ),
)


def preset(profile_id: str) -> ProviderProfile:
    """The built-in preset ``profile_id``; raises :class:`UnknownProfile`."""
    for profile in PRESETS:
        if profile.id == profile_id:
            return profile
    raise UnknownProfile(f"There is no built-in profile '{profile_id}'.")
