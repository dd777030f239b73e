"""SDK exceptions to typed provider errors, with messages a person understands.

Both SDKs (openai, anthropic) share one exception shape: ``APIStatusError`` for HTTP errors
(status, body, response), ``APIConnectionError`` ⊃ ``APITimeoutError`` for transport
failures, and a plain ``APIError`` (or a status error carrying 200) for an error event
inside a stream. Anthropic's stream also lets raw ``httpx2`` transport errors through. One
mapping serves the three protocols; each provider passes its SDK's classes in
:class:`SdkErrorTypes`. Messages never contain the API key, even when a server echoes it.
"""

from __future__ import annotations

import email.utils
import math
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2

from promptstudio.providers.base import Endpoint, is_local
from promptstudio.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ModelNotFound,
    Overloaded,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    StreamCut,
    TimedOut,
)

# Well-known local servers by default port, for a hint when nothing answers.
LOCAL_SERVERS = {11434: "Ollama", 1234: "LM Studio", 8080: "the llama.cpp server", 8000: "vLLM"}
_START_HINTS = {
    "Ollama": " Start it with `ollama serve`.",
    "LM Studio": " Start its local server (Developer tab).",
}
_MAX_DETAIL = 500


@dataclass(frozen=True, slots=True)
class SdkErrorTypes:
    """One SDK's exception classes (they differ only in name between the two SDKs)."""

    base: type[Exception]
    api: type[Exception]
    status: type[Exception]
    connection: type[Exception]
    timeout: type[Exception]


def tokens(n: int) -> str:
    return f"{n} token" if n == 1 else f"{n} tokens"


def map_sdk_error(
    exc: BaseException,
    endpoint: Endpoint,
    model: str | None,
    types: SdkErrorTypes,
    *,
    deltas: int | None,
) -> ProviderError:
    """Our typed error for ``exc``; ``deltas`` is None before the stream began.

    ``model`` is None for requests that are not about one model (the model list).
    """
    label = endpoint.label
    secrets = secrets_of(endpoint)
    streaming = deltas is not None
    if isinstance(exc, types.timeout | httpx2.TimeoutException):
        if streaming:
            return stalled(endpoint, deltas or 0)
        return TimedOut(f"The request to {label} timed out.")
    if isinstance(exc, types.connection | httpx2.RequestError):
        if streaming:
            return cut(deltas or 0)
        return connection_failed(endpoint, exc)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, types.status) and isinstance(status, int) and status >= 400:
        body = getattr(exc, "body", None)
        return status_error(status, body, response_headers(exc), endpoint, model)
    if isinstance(exc, types.api):  # an error event inside a 200 stream
        kind, message = error_fields(getattr(exc, "body", None))
        return stream_error_event(endpoint, kind, message)
    # Anything else from the SDK (bad configuration, unexpected response shape).
    return ProviderError(f"The request to {label} failed: {redact(str(exc), secrets)}")


def status_error(
    status: int,
    body: object,
    headers: Mapping[str, str],
    endpoint: Endpoint,
    model: str | None,
) -> ProviderError:
    """An HTTP error status from the server, as our typed error."""
    label = endpoint.label
    kind, text = error_fields(body)
    detail = clean_detail(text, secrets_of(endpoint))
    suffix = f": {detail}" if detail else "."
    if status == 401:
        if endpoint.api_key:
            return AuthenticationFailed(f"The server at {label} rejected the API key (401).")
        return AuthenticationFailed(f"The server at {label} needs an API key (401).")
    if status == 403:
        return PermissionDenied(f"The server at {label} denied access (403){suffix}")
    if status == 404:
        return _not_found(body, endpoint, model)
    if status in (400, 413, 422):
        what = "the request as too large" if status == 413 else "the request"
        return BadRequest(
            f"The server at {label} rejected {what} ({status}){suffix}", status=status
        )
    if status == 408:
        return TimedOut(
            f"The server at {label} timed out waiting for the request (408).", status=408
        )
    if status == 429:
        retry_after = retry_after_seconds(headers)
        return RateLimited(
            f"The server at {label} is rate limiting requests (429).{_try_again(retry_after)}",
            retry_after=retry_after,
        )
    if status in (503, 529) or "overloaded" in kind:
        retry_after = retry_after_seconds(headers)
        sentence = suffix if suffix.endswith((".", "!", "?")) else suffix + "."
        return Overloaded(
            f"The server at {label} is overloaded ({status}){sentence}{_try_again(retry_after)}",
            status=status,
            retry_after=retry_after,
        )
    if status in (502, 504):
        return ServerError(
            f"The server at {label} is unavailable ({status}){suffix}", status=status
        )
    if status >= 500:
        return ServerError(
            f"The server at {label} had an internal error ({status}){suffix}", status=status
        )
    return ProviderError(f"The server at {label} answered {status}{suffix}", status=status)


def _try_again(seconds: float | None) -> str:
    return f" Try again in {seconds:g} s." if seconds else " Try again later."


def _not_found(body: object, endpoint: Endpoint, model: str | None) -> ProviderError:
    label = endpoint.label
    api_answered = isinstance(body, Mapping)  # an API's JSON error, not a web server's page
    if model is None:
        return ProviderError(
            f"The server at {label} has no model list (404). {_url_hint(endpoint)}", status=404
        )
    message = f"Model '{model}' was not found at {label}."
    if not api_answered:
        return ModelNotFound(f"{message} {_url_hint(endpoint)}", model=model, url_suspect=True)
    if local_server(endpoint) == "Ollama":
        message += f" Pull it with `ollama pull {model}`."
    return ModelNotFound(message, model=model)


def _url_hint(endpoint: Endpoint) -> str:
    if endpoint.kind == "anthropic":
        if urlsplit(endpoint.base_url).path.rstrip("/").endswith("/v1"):
            return "Check the base URL too: Anthropic's has no /v1 (the SDK adds it)."
        return "Check the base URL too."
    return "Check the base URL too: compatible servers usually serve under /v1."


def stream_error_event(endpoint: Endpoint, kind: str, message: str) -> ProviderError:
    """An error the server reported inside a 200 stream (its type/code words in ``kind``)."""
    detail = clean_detail(message, secrets_of(endpoint)) or "no details given"
    text = f"The server at {endpoint.label} reported an error during the stream: {detail}"
    kind = kind.lower()
    if "overloaded" in kind:
        return Overloaded(text)
    if "rate_limit" in kind:
        return RateLimited(text)
    if any(word in kind for word in ("invalid_request", "context_length", "invalid_prompt")):
        return BadRequest(text)
    if "authentication" in kind:
        return AuthenticationFailed(text)
    if "permission" in kind:
        return PermissionDenied(text)
    return ServerError(text)


def error_fields(body: object) -> tuple[str, str]:
    """(type and code words, message) from an error body in OpenAI's or Anthropic's shape."""
    if isinstance(body, str):
        return "", body
    if not isinstance(body, Mapping):
        return "", ""
    inner = body.get("error")
    if isinstance(inner, str):  # {"error": "..."} (Ollama and others)
        return "", inner
    if isinstance(inner, Mapping):  # Anthropic's {"type": "error", "error": {...}}
        body = inner
    kind = " ".join(str(body.get(key) or "") for key in ("type", "code")).strip()
    message = body.get("message")
    return kind, message if isinstance(message, str) else ""


def clean_detail(text: str, secrets: Sequence[str]) -> str:
    """The server's explanation on one line, shortened, without any secret it echoed."""
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1] + "…"
    return redact(text, secrets)


# ---- connection and timeouts ---------------------------------------------------------


def first_token_timeout(endpoint: Endpoint) -> TimedOut:
    return TimedOut(
        f"No answer from {endpoint.label} within {endpoint.first_token_timeout:g} s "
        "(first-token timeout)."
    )


def stalled(endpoint: Endpoint, deltas: int) -> TimedOut:
    return TimedOut(
        f"The stream from {endpoint.label} stalled: nothing arrived for "
        f"{endpoint.idle_timeout:g} s (after {tokens(deltas)})."
    )


def cut(deltas: int) -> StreamCut:
    return StreamCut(f"The stream ended before the model finished (after {tokens(deltas)}).")


def ended_early(endpoint: Endpoint, deltas: int, api: str = "chat") -> StreamCut:
    """The server closed the stream in good order, but the model never said it finished.

    For Chat Completions on a server on this machine the usual cause is llama-cpp-python's
    server, which ends the stream it serves (with a clean ``[DONE]``) when another request
    arrives.
    """
    error = cut(deltas)
    if api != "chat" or not is_local(endpoint):
        return error
    return StreamCut(
        f"{error.message} A llama.cpp server started with --interrupt_requests (the default "
        "of llama-cpp-python's server) cuts an earlier request when a new one arrives: send "
        f"{endpoint.label} one request at a time (“Requests at once” 1 in its provider, the "
        "default for a local server) or start the server with --interrupt_requests False."
    )


def connection_failed(endpoint: Endpoint, exc: BaseException | None = None) -> ConnectionFailed:
    tls = _tls_problem(exc)
    if tls is not None:
        return ConnectionFailed(f"Could not make a secure connection to {endpoint.label}: {tls}")
    return ConnectionFailed(connect_message(endpoint))


def _tls_problem(exc: BaseException | None) -> str | None:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLError):
            return getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        exc = exc.__cause__ or exc.__context__
    return None


def connect_message(endpoint: Endpoint) -> str:
    """Could not connect: which server should be running, and where."""
    parts = urlsplit(endpoint.base_url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or endpoint.base_url
    if not is_local(endpoint):
        return (
            f"Could not connect to {endpoint.label} ({host}). Check the address and your network."
        )
    port = port or (443 if parts.scheme == "https" else 80)
    name = LOCAL_SERVERS.get(port, "the server")
    message = f"Could not connect to {endpoint.label}. Is {name} running at {host}:{port}?"
    return message + _START_HINTS.get(name, "")


def local_server(endpoint: Endpoint) -> str | None:
    """The well-known local server at this URL's default port, if any."""
    parts = urlsplit(endpoint.base_url)
    try:
        port = parts.port
    except ValueError:
        return None
    if is_local(endpoint) and port is not None:
        return LOCAL_SERVERS.get(port)
    return None


# ---- headers and secrets ---------------------------------------------------------------


def response_headers(exc: BaseException) -> Mapping[str, str]:
    """The headers of the HTTP response an SDK status error carries (empty without one)."""
    return getattr(getattr(exc, "response", None), "headers", None) or {}


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``retry-after`` seconds or an HTTP date."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    value = headers.get("retry-after")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    return None


_SECRET_WORDS = ("auth", "key", "token", "secret")


def secrets_of(endpoint: Endpoint) -> list[str]:
    """Strings that must never appear in a message: the key and secret-looking headers."""
    secrets = [endpoint.api_key] if endpoint.api_key else []
    for name, value in endpoint.extra_headers.items():
        if any(word in name.lower() for word in _SECRET_WORDS) and value:
            secrets.append(value)
            secrets.extend(part for part in value.split() if len(part) >= 8)
    return secrets


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


def describe_exception(exc: BaseException) -> str:
    """A short, key-free description of a transport failure (an SDK's wraps the transport's),
    for retry reasons."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, httpx2.TimeoutException):
            return "timed out"
        if isinstance(cause, httpx2.ConnectError):
            return "could not connect"
        cause = cause.__cause__ or cause.__context__
    return "the connection failed"
