"""Typed failures of the improve, generate and optimise features."""

from __future__ import annotations

from promptstudio.errors import PromptStudioError


class FeatureError(PromptStudioError):
    """The model could not be asked, or its reply holds nothing usable."""


class RewriteRejected(FeatureError):
    """A proposed template breaks the prompt (a variable dropped or renamed, a template
    that does not render, roles out of order); the message says which."""
