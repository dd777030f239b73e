"""A run column in the core: what it sends where, and the one way it becomes a RunTarget.

The run board's columns, ``promptstudio run`` and ``promptstudio eval`` and the GUI's
evaluation all describe a column as a :class:`ColumnConfig` and turn it into a request with
:func:`run_target`, so the settings' run defaults and timeouts reach the wire the same way
from every one of them. The settings of a column are ruled by the one parameter table,
``providers.param_rules.PARAM_RULES``.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from promptstudio.credentials import KeyStore
from promptstudio.errors import PromptStudioError
from promptstudio.providers import Endpoint, GenerationParams, ProviderError, ProviderProfile
from promptstudio.providers.apis import API_CHOICES, Api, resolve_api
from promptstudio.runs.engine import RunTarget

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://localhost:11434/v1"  # Ollama: the common local server
MAX_SAMPLES = 20  # answers per column in one run (the board's "Samples")


class ColumnError(PromptStudioError):
    """A column cannot be sent: it names an unknown provider and no base URL, or no model."""


@dataclass
class ColumnConfig:
    """What a column sends where; stored with each version (never a key).

    ``api``: ``"auto"`` speaks what the provider profile says (``providers.apis``), or
    ``"chat"``/``"responses"`` for an OpenAI-kind server (an Anthropic profile speaks
    Messages only: :func:`run_target` refuses anything but auto there). ``samples``: how
    many answers one run asks for (1 to :data:`MAX_SAMPLES`). Raises :class:`ColumnError`
    for a value outside those."""

    base_url: str = DEFAULT_BASE_URL
    model: str = ""
    profile: str = ""  # a provider profile's id; empty for a typed base URL
    params: GenerationParams = field(default_factory=GenerationParams)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    api: str = "auto"
    samples: int = 1

    def __post_init__(self) -> None:
        if self.api not in API_CHOICES:
            raise ColumnError(f"Unknown API '{self.api}': choose {', '.join(API_CHOICES)}.")
        count = self.samples
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SAMPLES:
            raise ColumnError(f"Samples must be a whole number from 1 to {MAX_SAMPLES}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``api`` and ``samples`` only when not the default, so a column stored
        before they existed reads back the same."""
        data: dict[str, Any] = {
            "id": self.id,
            "profile": self.profile,
            "base_url": self.base_url,
            "model": self.model,
            "params": self.params.to_dict(),
        }
        if self.api != "auto":
            data["api"] = self.api
        if self.samples != 1:
            data["samples"] = self.samples
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnConfig:
        """A stored column; an ``api`` or ``samples`` it cannot have (a hand-edited file)
        is logged and read as the default, so the rest of the column is not lost."""
        api, samples = data.get("api") or "auto", data.get("samples", 1)
        if api not in API_CHOICES:
            log.warning("a stored column's API %r is unknown; reading it as auto", api)
            api = "auto"
        whole = isinstance(samples, int) and not isinstance(samples, bool)
        if not whole or not 1 <= samples <= MAX_SAMPLES:
            log.warning("a stored column's samples %r are out of range; reading 1", samples)
            samples = 1
        config = cls(
            base_url=str(data.get("base_url") or DEFAULT_BASE_URL),
            model=str(data.get("model") or ""),
            profile=str(data.get("profile") or ""),
            params=GenerationParams.from_dict(data.get("params") or {}),
            api=str(api),
            samples=samples,
        )
        if data.get("id"):
            config.id = str(data["id"])
        return config

    def duplicate(self) -> ColumnConfig:
        """The same column under a new id."""
        return replace(self, id=ColumnConfig().id)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class RunDefaults:
    """The settings' run defaults (sent when a column leaves a setting unset; None: the
    server's default) and timeouts (None: the :class:`Endpoint`'s own)."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    connect_timeout: float | None = None
    first_token_timeout: float | None = None
    idle_timeout: float | None = None
    max_retries: int | None = None

    @classmethod
    def from_settings(cls, get: Callable[[str], object]) -> RunDefaults:
        """The defaults from a settings store's ``get`` (``SettingsStore.get``); a value of
        the wrong type counts as not set."""

        def whole(name: str) -> int | None:
            number = _number(get(name))
            return int(number) if number is not None else None

        return cls(
            temperature=_number(get("run.temperature")),
            top_p=_number(get("run.top_p")),
            max_tokens=whole("run.max_tokens"),
            connect_timeout=_number(get("timeouts.connect")),
            first_token_timeout=_number(get("timeouts.first_token")),
            idle_timeout=_number(get("timeouts.idle")),
            max_retries=whole("timeouts.max_retries"),
        )

    def with_first_token_timeout(self, seconds: float | None) -> RunDefaults:
        """These defaults with the first-token timeout replaced (``--timeout``), if given."""
        return self if seconds is None else replace(self, first_token_timeout=seconds)

    def fill(self, params: GenerationParams) -> GenerationParams:
        """``params`` with what they leave unset filled from the run defaults."""
        return replace(
            params,
            temperature=params.temperature if params.temperature is not None else self.temperature,
            top_p=params.top_p if params.top_p is not None else self.top_p,
            max_tokens=params.max_tokens if params.max_tokens is not None else self.max_tokens,
        )

    def timeouts(self) -> dict[str, Any]:
        """The timeouts set, as :class:`Endpoint` keyword arguments."""
        timeouts = {
            "connect_timeout": self.connect_timeout,
            "first_token_timeout": self.first_token_timeout,
            "idle_timeout": self.idle_timeout,
            "max_retries": self.max_retries,
        }
        return {name: value for name, value in timeouts.items() if value is not None}


def column_profile(
    column: ColumnConfig, profiles: Sequence[ProviderProfile]
) -> ProviderProfile | None:
    """The provider the column names, or None for a typed base URL. :class:`ColumnError`
    when it names a provider that does not exist and has no base URL to fall back on."""
    if not column.profile:
        return None
    found = next((p for p in profiles if p.id == column.profile), None)
    if found is None and not column.base_url:
        raise ColumnError(f"There is no provider profile '{column.profile}'.")
    return found


def column_api(
    column: ColumnConfig, profiles: Sequence[ProviderProfile], *, guess: bool = False
) -> Api:
    """The API the column speaks: its own choice, else its provider's (``resolve_api``).
    :class:`ColumnError` when the choice does not fit the provider (chat or responses for
    an Anthropic profile) or the provider is gone; with ``guess`` (a preview): "chat"."""
    if guess:
        try:
            return column_api(column, profiles)
        except ColumnError:
            return "chat"
    profile = column_profile(column, profiles)
    kind = profile.kind if profile is not None else "openai-compatible"
    chosen = column.api if column.api != "auto" or profile is None else profile.api
    if kind == "anthropic" and chosen != "auto":
        raise ColumnError(
            f"{profile.name if profile else 'This provider'} speaks the Anthropic Messages "
            "API only; set the column's API to auto."
        )
    try:
        return resolve_api(kind, chosen, column.model)
    except ProviderError as exc:
        raise ColumnError(exc.message) from None


def column_endpoint(
    column: ColumnConfig,
    profiles: Sequence[ProviderProfile],
    keys: KeyStore,
    defaults: RunDefaults,
) -> Endpoint:
    """The column's endpoint with its key (in memory only), the defaults' timeouts and the
    column's API when it chose one."""
    timeouts = defaults.timeouts()
    column_api(column, profiles)  # refuses an API the provider cannot speak
    profile = column_profile(column, profiles)
    account, key_env = column_key(column, profiles)
    key = keys.resolve(account, key_env=key_env).value
    if profile is not None:
        endpoint = profile.to_endpoint(key, **timeouts)
        return endpoint if column.api == "auto" else replace(endpoint, api=column.api)
    if not account:
        raise ColumnError("A column has neither a provider nor a base URL.")
    return Endpoint(base_url=account, api_key=key, api=column.api, **timeouts)


def column_key(column: ColumnConfig, profiles: Sequence[ProviderProfile]) -> tuple[str, str]:
    """Where the column's key is kept and the variable its provider names for it:
    (its provider's account, else its base URL; the ``key_env``, "" for none). What a
    typed key is stored under, what the key status shows and what a request sends."""
    profile = column_profile(column, profiles)
    if profile is not None:
        return profile.key_account, profile.key_env
    return column.base_url.rstrip("/"), ""


def run_target(
    column: ColumnConfig,
    profiles: Sequence[ProviderProfile],
    keys: KeyStore,
    defaults: RunDefaults,
    *,
    key: str = "",
) -> RunTarget:
    """The request a column makes: its endpoint, model and settings with the run defaults
    filled in. ``key`` names the target in a session (default: the column's id)."""
    if not column.model:
        raise ColumnError("Choose an endpoint and type a model name first.")
    endpoint = column_endpoint(column, profiles, keys, defaults)
    return RunTarget(key or column.id, endpoint, column.model, defaults.fill(column.params))


def sample_key(column_id: str, sample: int) -> str:
    """The run engine's key for one sample (from 0) of one column."""
    return f"{column_id}#{sample}"


def split_sample_key(key: str) -> tuple[str, int]:
    """(column id, sample) of a :func:`sample_key`; a plain id is sample 0."""
    column_id, _, sample = key.partition("#")
    return column_id, int(sample or 0)


def sample_targets(target: RunTarget, column: ColumnConfig) -> list[RunTarget]:
    """The column's request once per sample, each under its :func:`sample_key`."""
    return [replace(target, key=sample_key(column.id, n)) for n in range(column.samples)]
