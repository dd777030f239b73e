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
    status = 401


class PermissionDenied(ProviderError):
    status = 403


class ModelNotFound(ProviderError):
    status = 404


class BadRequest(ProviderError):
    status = 400


class RateLimited(ProviderError):
    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(ProviderError):
    """5xx, including 503/529 overloaded."""


class ConnectionFailed(ProviderError):
    """Nothing answered at the base URL (refused, DNS, TLS)."""


class TimedOut(ProviderError):
    """No first token in time, or the stream stalled."""


class StreamCut(ProviderError):
    """The stream ended or broke before the model finished."""
