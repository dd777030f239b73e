"""Image prompts end to end through the fake server, in each API's own wire shape."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionUserMessageParam
from openai.types.responses import EasyInputMessageParam

from promptstudio.chat import Message
from promptstudio.images import MB, estimate_image_tokens, image_from_bytes, openai_image_tokens
from promptstudio.providers import Finished, ImagesRefused, UnsupportedSetting
from promptstudio.providers.pricing import estimate_tokens
from promptstudio.templating import render_messages
from tests.fake_llm import IMAGE_TOKENS, FakeLLM, Reply
from tests.images import GIF, data_url, png
from tests.providers.helpers import collect, endpoint, error_of, sent, text_of, usage_of

REMOTE = "https://example.com/cat.jpg"


def image_prompt() -> tuple[Message, ...]:
    template = "system:\nBe brief.\nuser:\nWhat is in ![a]({{ a }}) and ![b](" + REMOTE + ")?"
    return tuple(render_messages(template, {"a": data_url(png())}))


def user_message(body: dict[str, Any]) -> Any:
    items = body.get("messages") or body.get("input")
    assert isinstance(items, list)
    return next(item for item in items if item["role"] == "user")


PNG64 = data_url(png()).partition(",")[2]
EXPECTED = {
    "chat": [
        {"type": "text", "text": "What is in "},
        {"type": "image_url", "image_url": {"url": data_url(png())}},
        {"type": "text", "text": " and "},
        {"type": "image_url", "image_url": {"url": REMOTE}},
        {"type": "text", "text": "?"},
    ],
    "responses": [
        {"type": "input_text", "text": "What is in "},
        {"type": "input_image", "image_url": data_url(png()), "detail": "auto"},
        {"type": "input_text", "text": " and "},
        {"type": "input_image", "image_url": REMOTE, "detail": "auto"},
        {"type": "input_text", "text": "?"},
    ],
    "messages": [
        {"type": "text", "text": "What is in "},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG64}},
        {"type": "text", "text": " and "},
        {"type": "image", "source": {"type": "url", "url": REMOTE}},
        {"type": "text", "text": "?"},
    ],
}
SDK_TYPES: dict[str, Any] = {
    "chat": ChatCompletionUserMessageParam,
    "responses": EasyInputMessageParam,
    "messages": MessageParam,
}


@pytest.mark.parametrize("protocol", ["chat", "responses", "messages"])
def test_an_image_prompt_goes_out_in_each_apis_shape(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(text="A red pixel."))
    events = collect(endpoint(fake_llm, protocol), messages=image_prompt())
    assert text_of(events) == "A red pixel." and isinstance(events[-1], Finished)
    [request] = sent(fake_llm, protocol)
    message = user_message(request.json)
    assert message["content"] == EXPECTED[protocol]
    # What the SDK's own request types accept (a TypedDict checked by pydantic).
    pydantic.TypeAdapter(SDK_TYPES[protocol]).validate_python(message)
    usage = usage_of(events)
    assert usage.input_tokens is not None and usage.input_tokens >= 2 * IMAGE_TOKENS
    assert not usage.estimated  # the server's count is what counts


@pytest.mark.parametrize("protocol", ["chat", "responses", "messages"])
def test_a_text_only_model_refusing_images_is_said_plainly(
    fake_llm: FakeLLM, protocol: str
) -> None:
    fake_llm.text_only_models = {"fake-model"}
    error = error_of(collect(endpoint(fake_llm, protocol), messages=image_prompt()))
    assert isinstance(error, ImagesRefused) and error.status == 400
    assert "The model fake-model at Fake refused the images" in error.message


def test_anthropic_images_over_5_mb_are_refused_before_sending(fake_llm: FakeLLM) -> None:
    big = image_from_bytes(png() + b"\0" * (6 * MB), "big", "big.png", what="big.png")
    messages = (Message.of("user", (big,)),)
    error = error_of(collect(endpoint(fake_llm, "messages"), messages=messages))
    assert isinstance(error, UnsupportedSetting)
    assert "the Anthropic API takes at most 5 MB per image" in error.message
    assert not fake_llm.requests
    fake_llm.script(Reply(text="ok"))
    assert text_of(collect(endpoint(fake_llm, "chat"), messages=messages)) == "ok"  # 20 MB


def test_images_only_in_user_messages(fake_llm: FakeLLM) -> None:
    image = image_from_bytes(GIF, "g", "g.gif", what="g.gif")
    messages = (Message.of("system", (image,)), Message("user", "hi"))
    error = error_of(collect(endpoint(fake_llm, "chat"), messages=messages))
    assert "only be sent in user messages" in error.message and not fake_llm.requests


def test_the_local_estimate_counts_images() -> None:
    plain = estimate_tokens([Message("user", "x" * 40)])
    image = image_from_bytes(png(750, 2), "", "p.png", what="p")
    with_image = estimate_tokens([Message.of("user", (image,)), Message("user", "x" * 40)])
    assert with_image == plain + 2  # 750 x 2 pixels / 750


def test_openai_counts_images_in_tiles_as_its_guide_does() -> None:
    # The worked examples of "Calculating costs" in OpenAI's vision guide.
    assert openai_image_tokens(1024, 1024) == 765  # 768 x 768: 4 tiles
    assert openai_image_tokens(2048, 4096) == 1105  # 1024 x 2048, then 768 x 1536: 6 tiles
    assert openai_image_tokens(4096, 8192, detail="low") == 85
    assert openai_image_tokens(100, 100) == 255  # small images are not scaled up: 1 tile
    wide = image_from_bytes(png(1024, 1024), "", "p.png", what="p")
    assert estimate_image_tokens(wide, "chat") == estimate_image_tokens(wide, "responses") == 765
    assert estimate_image_tokens(wide, "messages") == 1399  # Anthropic's pixels / 750


@pytest.mark.parametrize(("protocol", "image_tokens"), [("chat", 425), ("messages", 2)])
def test_a_stream_without_usage_counts_images_as_its_api_does(
    fake_llm: FakeLLM, protocol: str, image_tokens: int
) -> None:
    fake_llm.script(Reply(text="ok", include_usage=False))
    image = image_from_bytes(png(750, 2), "", "p.png", what="p")
    messages = (Message.of("user", (image,)), Message("user", "x" * 40))
    usage = usage_of(collect(endpoint(fake_llm, protocol), messages=messages))
    assert usage.estimated and usage.input_tokens == 10 + image_tokens
