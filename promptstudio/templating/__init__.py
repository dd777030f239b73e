"""Prompt templates: Jinja2 text with Prompty-style role markers, rendered to chat messages.

Qt-free. All positions refer to the source with ``\\r\\n`` and ``\\r`` normalised to ``\\n``.
"""

from __future__ import annotations

from promptstudio.templating.errors import (
    ImageRefused,
    NothingToSend,
    RenderLimitExceeded,
    TemplateError,
)
from promptstudio.templating.image_parts import image_variables
from promptstudio.templating.limits import RenderLimits
from promptstudio.templating.parsing import check
from promptstudio.templating.render import render_messages, render_text, sent_images
from promptstudio.templating.roles import RoleMarker, role_markers
from promptstudio.templating.variables import VariableUse, find_variables, input_names

__all__ = [
    "ImageRefused",
    "NothingToSend",
    "RenderLimitExceeded",
    "RenderLimits",
    "RoleMarker",
    "TemplateError",
    "VariableUse",
    "check",
    "find_variables",
    "image_variables",
    "input_names",
    "render_messages",
    "render_text",
    "role_markers",
    "sent_images",
]
