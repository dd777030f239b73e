"""Typed provider failures, each with a message a person understands."""

from __future__ import annotations

from promptstudio.errors import PromptStudioError


class ProviderError(PromptStudioError):
    """A request to a model failed. ``status`` is the HTTP status when there was one."""

    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class AuthenticationFailed(ProviderError):
    status: int | None = 401


class PermissionDenied(ProviderError):
    status: int | None = 403


class ModelNotFound(ProviderError):
    """404 for a model. ``available`` lists the server's models when it could tell.

    ``url_suspect``: the 404 did not come from the API (a web server's page), so the base
    URL is more likely wrong than the model name.
    """

    status: int | None = 404

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        available: tuple[str, ...] = (),
        url_suspect: bool = False,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.available = available
        self.url_suspect = url_suspect


class BadRequest(ProviderError):
    """400/413/422: the server refused the request as malformed or too large."""

    status: int | None = 400


class UnsupportedSetting(BadRequest):
    """A setting the chosen API cannot carry; refused before anything was sent."""

    status = None


class RateLimited(ProviderError):
    """429, or a rate-limit error inside a stream; ``retry_after`` in seconds if known."""

    status: int | None = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(ProviderError):
    """5xx, or an error the server reported inside a stream."""


class Overloaded(ServerError):
    """503 or 529 (Anthropic's "overloaded"): the service is busy, try again later."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ConnectionFailed(ProviderError):
    """Nothing answered at the base URL (refused, DNS, TLS)."""


class TimedOut(ProviderError):
    """No first token in time, or the stream stalled."""


class StreamCut(ProviderError):
    """The stream ended or broke before the model finished."""


class ImagesRefused(BadRequest):
    """The model (or server) does not take images: its 400 to a request that held some."""
