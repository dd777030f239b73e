"""The provider interface: a request goes in, a stream of events comes out.

A provider never raises out of :meth:`Provider.stream` for an expected failure: it yields
a :class:`StreamError` event carrying a typed :class:`ProviderError` and stops. Text that
arrived before a failure has already been yielded, so the caller keeps it. Before it
waits to retry a failed attempt the stream yields :class:`Retrying`, so a wait is never
silent. Cancelling the consuming task closes the HTTP connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from promptstudio.chat import Message
from promptstudio.providers.errors import ProviderError
from promptstudio.tools import ToolDef


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach a provider. ``api_key`` lives only in memory."""

    base_url: str
    api_key: str | None = None
    kind: str = "openai-compatible"  # "openai", "anthropic", "openai-compatible"
    name: str = ""  # display name used in error messages; defaults to the base URL
    extra_headers: dict[str, str] = field(default_factory=dict)
    connect_timeout: float = 5.0
    first_token_timeout: float = 120.0
    idle_timeout: float = 60.0
    max_retries: int = 2
    # Which OpenAI API to speak: "auto", "chat" or "responses" (see providers.apis).
    api: str = "auto"
    # Requests sent to this server at once (the rest wait their turn); None: the default
    # for where it is (see runs.limits).
    max_concurrent: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.base_url

    def __repr__(self) -> str:  # never show the key or header values
        return (
            f"Endpoint(base_url={self.base_url!r}, kind={self.kind!r}, name={self.name!r}, "
            f"api={self.api!r})"
        )


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})


def is_local(endpoint: Endpoint) -> bool:
    """True for a server on this machine (or a ``.local`` name on the network)."""
    host = (urlsplit(endpoint.base_url).hostname or "").lower()
    return host in _LOCAL_HOSTS or host.startswith("127.") or host.endswith(".local")


def server_key(endpoint: Endpoint) -> str:
    """Requests that share this key go to the same server (and share its limit)."""
    parts = urlsplit(endpoint.base_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


_OPTIONAL_KEYS = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "seed",
    "reasoning_effort",
    "json_schema",
    "thinking_budget",
    "tool_choice",
    "parallel_tool_calls",
)


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Sampling and output settings, in our own names; each provider maps them to its API.

    A setting the chosen API cannot express fails the request with a typed
    ``UnsupportedSetting`` (a ``BadRequest``) before anything is sent
    (``providers.apis.check_params``), never silently dropped.
    ``json_schema`` is either a JSON Schema, or OpenAI's wrapper ``{"name", "schema",
    "strict"?}`` when you want to choose the name or strictness.
    """

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    top_k: int | None = None
    reasoning_effort: str | None = None  # "low", "medium" or "high"
    json_mode: bool = False  # answer with a JSON object (no schema)
    # Answer matching this schema (left out of the hash: a dict is not hashable).
    json_schema: dict[str, Any] | None = field(default=None, hash=False)
    thinking_budget: int | None = None  # Anthropic extended thinking, in tokens
    # Which tool the model must call: "auto", "none", "required" or a tool's name.
    tool_choice: str | None = None
    parallel_tool_calls: str | None = None  # "yes" or "no": several calls in one turn

    def to_dict(self) -> dict[str, Any]:
        """The settings that are set, JSON-ready (what a run stores)."""
        out: dict[str, Any] = {}
        for key in _OPTIONAL_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.stop:
            out["stop"] = list(self.stop)
        if self.json_mode:
            out["json_mode"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        schema = data.get("json_schema")
        return cls(
            temperature=data.get("temperature"),
            top_p=data.get("top_p"),
            max_tokens=data.get("max_tokens"),
            stop=tuple(data.get("stop") or ()),
            seed=data.get("seed"),
            top_k=data.get("top_k"),
            reasoning_effort=data.get("reasoning_effort"),
            json_mode=bool(data.get("json_mode", False)),
            json_schema=dict(schema) if isinstance(schema, dict) else None,
            thinking_budget=data.get("thinking_budget"),
            tool_choice=data.get("tool_choice"),
            parallel_tool_calls=data.get("parallel_tool_calls"),
        )

    def set_names(self) -> list[str]:
        """Names of the settings that are set, in declaration order."""
        return [key for key in PARAM_NAMES if key in self.to_dict()]


# Every GenerationParams setting, in the order messages and the UI list them.
PARAM_NAMES = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "stop",
    "seed",
    "reasoning_effort",
    "json_mode",
    "json_schema",
    "thinking_budget",
    "tool_choice",
    "parallel_tool_calls",
)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: tuple[Message, ...]
    model: str
    params: GenerationParams = GenerationParams()
    tools: tuple[ToolDef, ...] = ()
    # Ask for each token's log-probability (Chat Completions only; the other APIs answer
    # without them). Not a column setting: evaluations ask for ``perplexity`` checks.
    logprobs: bool = False


# ---- stream events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of the ``index``-th tool call of the answer, as it streams: the first piece
    of a call brings its ``id`` and ``name``, later ones more of its ``arguments`` text."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one answer.

    ``input_tokens`` counts the whole prompt, cached part included (OpenAI's convention;
    Anthropic's separate cache counts are added in); ``cached_input_tokens`` is the part
    read from the prompt cache. ``output_tokens`` includes ``reasoning_tokens`` (hidden
    reasoning or thinking), as the providers bill them. None: the server did not say.
    """

    input_tokens: int | None
    output_tokens: int | None
    estimated: bool = False  # True when counted locally because the server sent none
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """The model finished; ``reason`` is the server's own word for why.

    Chat Completions says "stop"/"length", Responses "completed" or the reason it is
    incomplete ("max_output_tokens"), Anthropic "end_turn"/"max_tokens"/"stop_sequence".
    """

    reason: str
    logprobs: tuple[float, ...] | None = None  # per token, when asked for and sent


@dataclass(frozen=True, slots=True)
class Retrying:
    """The provider waits ``wait_seconds`` before retry number ``attempt`` of ``max_retries``.

    Sent before the wait starts, so a countdown can be shown; ``reason`` says what failed
    ("rate limited (429)", "could not connect", ...).
    """

    attempt: int
    max_retries: int
    wait_seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class RequestSent:
    """The request went out at ``at`` (``time.perf_counter()``), the first attempt's.

    Sent once, before any text: time to first token is measured from here, so building
    the client or the SDK's own first-use work is never counted as the model's latency.
    """

    at: float


@dataclass(frozen=True, slots=True)
class StreamError:
    error: ProviderError


StreamEvent = TextDelta | ToolCallDelta | Usage | Finished | Retrying | RequestSent | StreamError


class Provider(Protocol):
    """Anything that can stream a chat completion."""

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield events; ends after a :class:`Finished` or a :class:`StreamError`."""
        ...
