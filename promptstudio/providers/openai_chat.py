"""OpenAI Chat Completions through the official SDK, for OpenAI and compatible servers.

One ``AsyncOpenAI`` client is built for each stream and closed when the stream ends. A
client is cheap to use but costs ~25 ms to build (loading the CA store), so it is built
in a worker thread, off the UI's event loop. Not caching clients keeps every connection
on the loop that made it and leaves nothing to close when the app quits.

Timeouts are ours, not only the SDK's: the first-token timeout runs from the request to
the first content delta (retries included), the idle timeout between chunks after that.
The SDK's own read timeout is set a little above both, as a backstop.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast
from urllib.parse import urlsplit

import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from promptstudio.providers.base import (
    ChatRequest,
    Endpoint,
    Finished,
    StreamError,
    StreamEvent,
    TextDelta,
    Usage,
)
from promptstudio.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ModelNotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    StreamCut,
    TimedOut,
)

log = logging.getLogger(__name__)

# Sent as the bearer token to servers that need no key (Ollama, llama.cpp, LM Studio).
# Passing something also stops the SDK from reading OPENAI_API_KEY from the environment
# and sending the user's OpenAI key to a local or third-party server.
NO_KEY_PLACEHOLDER = "no-key-needed"

# Well-known local servers, for a hint when nothing answers.
_LOCAL_SERVERS = {11434: "Ollama", 1234: "LM Studio"}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
_MAX_DETAIL = 500


class OpenAIChatProvider:
    """Streams chat completions from an ``openai`` or ``openai-compatible`` endpoint.

    ``max_tokens`` goes out as ``max_completion_tokens`` for kind ``"openai"`` (OpenAI
    rejects ``max_tokens`` for its reasoning models) and as ``max_tokens`` for compatible
    servers, most of which do not know the newer name.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def __repr__(self) -> str:
        return f"OpenAIChatProvider({self.endpoint!r})"

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield text deltas, then usage, then Finished; or a StreamError, text kept."""
        endpoint = self.endpoint
        if urlsplit(endpoint.base_url).scheme not in ("http", "https"):
            yield StreamError(
                ConnectionFailed(
                    f"The base URL of {endpoint.label} must start with http:// or https://."
                )
            )
            return

        loop = asyncio.get_running_loop()
        first_deadline = loop.time() + endpoint.first_token_timeout
        deltas = 0
        usage: Usage | None = None
        finish_reason: str | None = None
        failure: ProviderError | None = None
        client: openai.AsyncOpenAI | None = None
        sdk_stream: openai.AsyncStream[ChatCompletionChunk] | None = None
        log.debug("chat request to %s, model %s", endpoint.label, request.model)
        try:
            client = await asyncio.to_thread(_make_client, endpoint)
            try:
                async with asyncio.timeout_at(first_deadline):
                    sdk_stream = await client.chat.completions.create(
                        model=request.model,
                        messages=_messages(request),
                        stream=True,
                        stream_options={"include_usage": True},
                        **_params(request, endpoint.kind),
                    )
            except TimeoutError:
                failure = _first_token_timeout(endpoint)
            except openai.OpenAIError as exc:
                failure = _map_error(exc, endpoint, request.model, deltas=None)

            chunks = aiter(sdk_stream) if sdk_stream is not None else None
            while chunks is not None and failure is None:
                deadline = first_deadline if deltas == 0 else loop.time() + endpoint.idle_timeout
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except (TimeoutError, openai.OpenAIError, json.JSONDecodeError) as exc:
                    if finish_reason is not None:
                        # The answer is complete; only the usage chunk or [DONE] went missing.
                        log.debug("%s: %s after the finish", endpoint.label, type(exc).__name__)
                    else:
                        failure = _stream_failure(exc, endpoint, request.model, deltas)
                    break

                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    text = choice.delta.content if choice.delta else None
                    if text:
                        deltas += 1
                        yield TextDelta(text)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        finally:
            try:
                if sdk_stream is not None:
                    await sdk_stream.close()
            finally:
                if client is not None:
                    await client.close()

        if failure is None and finish_reason is None:
            failure = StreamCut(
                f"The stream ended before the model finished (after {_tokens(deltas)})."
            )
        if usage is None and (deltas or failure is None):
            usage = Usage(
                input_tokens=math.ceil(sum(len(m.content) for m in request.messages) / 4),
                output_tokens=deltas,
                estimated=True,
            )
        if usage is not None:
            yield usage
        if failure is not None:
            log.debug("chat request to %s failed: %s", endpoint.label, failure)
            yield StreamError(failure)
        else:
            yield Finished(finish_reason or "unknown")


def _make_client(endpoint: Endpoint) -> openai.AsyncOpenAI:
    read = max(endpoint.first_token_timeout, endpoint.idle_timeout) + 1.0
    return openai.AsyncOpenAI(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key or NO_KEY_PLACEHOLDER,
        max_retries=endpoint.max_retries,
        timeout=openai.Timeout(
            connect=endpoint.connect_timeout,
            read=read,
            write=max(endpoint.connect_timeout, endpoint.idle_timeout),
            pool=endpoint.connect_timeout,
        ),
        default_headers=endpoint.extra_headers or None,
    )


def _messages(request: ChatRequest) -> list[ChatCompletionMessageParam]:
    return [cast("ChatCompletionMessageParam", m.to_dict()) for m in request.messages]


def _params(request: ChatRequest, kind: str) -> dict[str, Any]:
    params = request.params.to_dict()
    if kind == "openai" and "max_tokens" in params:
        params["max_completion_tokens"] = params.pop("max_tokens")
    return params


# ---- errors --------------------------------------------------------------------------


def _tokens(n: int) -> str:
    return f"{n} token" if n == 1 else f"{n} tokens"


def _stream_failure(
    exc: TimeoutError | openai.OpenAIError | json.JSONDecodeError,
    endpoint: Endpoint,
    model: str,
    deltas: int,
) -> ProviderError:
    if isinstance(exc, TimeoutError):
        return _first_token_timeout(endpoint) if deltas == 0 else _stalled(endpoint, deltas)
    if isinstance(exc, json.JSONDecodeError):
        return ProviderError(f"The server at {endpoint.label} sent a malformed stream ({exc.msg}).")
    return _map_error(exc, endpoint, model, deltas=deltas)


def _first_token_timeout(endpoint: Endpoint) -> TimedOut:
    return TimedOut(
        f"No answer from {endpoint.label} within {endpoint.first_token_timeout:g} s "
        "(first-token timeout)."
    )


def _stalled(endpoint: Endpoint, deltas: int) -> TimedOut:
    return TimedOut(
        f"The stream from {endpoint.label} stalled: nothing arrived for "
        f"{endpoint.idle_timeout:g} s (after {_tokens(deltas)})."
    )


def _map_error(
    exc: openai.OpenAIError, endpoint: Endpoint, model: str, *, deltas: int | None
) -> ProviderError:
    """Turn an SDK exception into our typed error; ``deltas`` is None before the stream."""
    label = endpoint.label
    secrets = _secrets(endpoint)
    streaming = deltas is not None

    if isinstance(exc, openai.APITimeoutError):
        if streaming:
            return _stalled(endpoint, deltas or 0)
        return TimedOut(f"The request to {label} timed out.")
    if isinstance(exc, openai.APIConnectionError):
        if streaming:
            return StreamCut(
                f"The stream ended before the model finished (after {_tokens(deltas or 0)})."
            )
        return ConnectionFailed(_connect_message(endpoint))
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 400:
        return _status_error(exc, endpoint, model, secrets)
    if isinstance(exc, openai.APIError):  # an error event inside a 200 stream
        return _stream_error_event(exc, label, secrets)
    # Anything else from the SDK (bad configuration, unexpected response shape).
    detail = _redact(str(exc), secrets)
    return ProviderError(f"The request to {label} failed: {detail}")


def _status_error(
    exc: openai.APIStatusError, endpoint: Endpoint, model: str, secrets: Sequence[str]
) -> ProviderError:
    label = endpoint.label
    status = exc.status_code
    detail = _server_detail(exc, secrets)
    suffix = f": {detail}" if detail else "."
    if status == 401:
        if endpoint.api_key:
            return AuthenticationFailed(f"The server at {label} rejected the API key (401).")
        return AuthenticationFailed(f"The server at {label} needs an API key (401).")
    if status == 403:
        return PermissionDenied(f"The server at {label} denied access (403){suffix}")
    if status == 404:
        message = f"Model '{model}' was not found at {label}."
        if not isinstance(exc.body, Mapping):  # not an API's JSON error: maybe a wrong URL
            message += " Check the base URL too: compatible servers usually serve under /v1."
        elif _local_server(endpoint) == "Ollama":
            message += f" Pull it with `ollama pull {model}`."
        return ModelNotFound(message)
    if status in (400, 422):
        return BadRequest(f"The server at {label} rejected the request ({status}){suffix}")
    if status == 429:
        retry_after = _retry_after(exc.response.headers)
        wait = f" Try again in {retry_after:g} s." if retry_after else " Try again later."
        return RateLimited(
            f"The server at {label} is rate limiting requests (429).{wait}",
            retry_after=retry_after,
        )
    if status >= 500:
        if status in (502, 503, 504, 529):
            return ServerError(
                f"The server at {label} is overloaded or unavailable ({status}){suffix}",
                status=status,
            )
        return ServerError(
            f"The server at {label} had an internal error ({status}){suffix}", status=status
        )
    return ProviderError(f"The server at {label} answered {status}{suffix}", status=status)


def _stream_error_event(exc: openai.APIError, label: str, secrets: Sequence[str]) -> ProviderError:
    detail = _server_detail(exc, secrets) or "no details given"
    message = f"The server at {label} reported an error during the stream: {detail}"
    body = exc.body if isinstance(exc.body, Mapping) else {}
    kind = f"{body.get('type') or ''} {body.get('code') or ''}".lower()
    if "rate_limit" in kind:
        return RateLimited(message)
    if "invalid_request" in kind or "context_length" in kind:
        return BadRequest(message)
    return ServerError(message)


def _server_detail(exc: openai.APIError, secrets: Sequence[str]) -> str:
    """The server's own explanation, without any secret it may have echoed."""
    body = exc.body
    text = ""
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str):
            text = message
        elif isinstance(body.get("error"), str):  # {"error": "..."} (Ollama and others)
            text = body["error"]
    elif isinstance(body, str):
        text = body
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1] + "…"
    return _redact(text, secrets)


def _connect_message(endpoint: Endpoint) -> str:
    name = _local_server(endpoint)
    if name is None:
        return f"Could not connect to {endpoint.label}. Is the server running?"
    message = f"Could not connect to {endpoint.label}. Is {name} running?"
    if name == "Ollama":
        message += " Start it with `ollama serve`."
    return message


def _local_server(endpoint: Endpoint) -> str | None:
    """The well-known local server at this URL's default port, if any."""
    parts = urlsplit(endpoint.base_url)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.hostname in _LOCAL_HOSTS and port is not None:
        return _LOCAL_SERVERS.get(port)
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
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


def _secrets(endpoint: Endpoint) -> list[str]:
    secrets = [endpoint.api_key] if endpoint.api_key else []
    for name, value in endpoint.extra_headers.items():
        if any(word in name.lower() for word in ("auth", "key", "token", "secret")) and value:
            secrets.append(value)
            secrets.extend(part for part in value.split() if len(part) >= 8)
    return secrets


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
