"""The fake server takes image parts only in each API's real shape, as the APIs do."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.fake_llm import CHAT_PATH, MESSAGES_PATH, RESPONSES_PATH, FakeLLM
from tests.images import data_url, png

PNG = data_url(png())


def post(server: FakeLLM, path: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        server.root_url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize(
    ("path", "part", "problem"),
    [
        (CHAT_PATH, {"type": "image_url", "image_url": PNG}, "image_url must be an object"),
        (CHAT_PATH, {"type": "input_image", "image_url": PNG, "detail": "auto"}, "Invalid content"),
        (RESPONSES_PATH, {"type": "input_image", "image_url": PNG}, "detail must be one of"),
        (MESSAGES_PATH, {"type": "image", "source": {"type": "base64", "data": "x"}}, "media_type"),
        (
            MESSAGES_PATH,
            {"type": "image", "source": {"type": "url", "url": "file:///etc/x.png"}},
            "base64 data URL",
        ),
    ],
)
def test_malformed_image_parts_are_a_400(
    fake_llm: FakeLLM, path: str, part: dict[str, Any], problem: str
) -> None:
    key = "input" if path == RESPONSES_PATH else "messages"
    body = {"model": "fake-model", "stream": True, key: [{"role": "user", "content": [part]}]}
    status, text = post(fake_llm, path, body)
    assert status == 400 and problem in text
