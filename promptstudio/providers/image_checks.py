"""Images in a request: checked against each API's limits before sending, and a server's
refusal of images told as such (a text-only model answers 400)."""

from __future__ import annotations

from promptstudio.images import check_size
from promptstudio.providers.base import ChatRequest, Endpoint
from promptstudio.providers.errors import (
    BadRequest,
    ImagesRefused,
    ProviderError,
    UnsupportedSetting,
)

#: Words in a 400's message that say it was about the images (OpenAI, vLLM, llama.cpp, ...).
_IMAGE_WORDS = ("image", "vision", "multimodal", "multi-modal", "mmproj")


def check_images(request: ChatRequest, api: str) -> ProviderError | None:
    """Refuse, before sending, images outside user messages or over ``api``'s size limit."""
    for message in request.messages:
        if message.images and message.role != "user":
            return UnsupportedSetting(
                f"Images can only be sent in user messages; this prompt has one in a "
                f"{message.role} message."
            )
        for image in message.images:
            problem = check_size(image, api)
            if problem is not None:
                return UnsupportedSetting(problem)
    return None


def refused_images(
    failure: ProviderError, request: ChatRequest, endpoint: Endpoint
) -> ProviderError:
    """``failure`` as :class:`ImagesRefused` when a request with images got a 400 about them."""
    if not isinstance(failure, BadRequest) or isinstance(failure, UnsupportedSetting):
        return failure
    if not any(message.images for message in request.messages):
        return failure
    text = failure.message.lower()
    if not any(word in text for word in _IMAGE_WORDS):
        return failure
    return ImagesRefused(
        f"The model {request.model} at {endpoint.label} refused the images: it does not take "
        f"image input, or not in this form. {failure.message}",
        status=failure.status,
    )
