"""Model lists through the SDKs' models.list(), in OpenAI's and Anthropic's shapes."""

from __future__ import annotations

import asyncio

import pytest

from promptstudio.providers import (
    AuthenticationFailed,
    ConnectionFailed,
    Endpoint,
    ModelCache,
    ProviderError,
    TimedOut,
    list_models,
)
from promptstudio.providers.models import model_hint
from tests.fake_llm import MODELS_PATH, FakeLLM, Reply
from tests.providers.helpers import KEY, closed_port, endpoint


def test_openai_shape(fake_llm: FakeLLM) -> None:
    fake_llm.models = ["zeta", "alpha", "mid"]
    assert asyncio.run(list_models(endpoint(fake_llm, "chat"))) == ["alpha", "mid", "zeta"]
    request = fake_llm.requests_to(MODELS_PATH)[0]
    assert "anthropic-version" not in request.headers


def test_anthropic_shape_with_pagination(fake_llm: FakeLLM) -> None:
    fake_llm.models = [f"claude-{i:02d}" for i in range(45)]
    models = asyncio.run(list_models(endpoint(fake_llm, "messages")))
    assert models == sorted(fake_llm.models)
    pages = fake_llm.requests_to(MODELS_PATH)
    assert len(pages) == 3  # 20 + 20 + 5, following last_id
    assert "after_id=claude-19" in pages[1].path
    assert all("anthropic-version" in p.headers for p in pages)


def test_kind_can_be_given_explicitly(fake_llm: FakeLLM) -> None:
    ep = Endpoint(base_url=fake_llm.anthropic_base_url, name="Fake")
    assert asyncio.run(list_models(ep, "anthropic")) == ["fake-model", "fake-model-large"]


@pytest.mark.parametrize("protocol", ["chat", "messages"])
def test_bad_key_is_a_typed_error(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.require_key = "the-right-one"
    with pytest.raises(AuthenticationFailed) as info:
        asyncio.run(list_models(endpoint(fake_llm, protocol, api_key=KEY)))
    assert str(info.value) == "The server at Fake rejected the API key (401)."
    assert all(KEY not in r.path for r in fake_llm.requests)


def test_no_model_list_at_this_url(fake_llm: FakeLLM) -> None:
    ep = Endpoint(base_url=fake_llm.root_url + "/nope", name="Fake")
    with pytest.raises(ProviderError) as info:
        asyncio.run(list_models(ep))
    assert info.value.status == 404
    assert str(info.value).startswith("The server at Fake has no model list (404).")


def test_nothing_listening() -> None:
    port = closed_port()
    ep = Endpoint(base_url=f"http://localhost:{port}/v1", name="Local")
    with pytest.raises(ConnectionFailed) as info:
        asyncio.run(list_models(ep))
    assert (
        str(info.value) == f"Could not connect to Local. Is the server running at localhost:{port}?"
    )


def test_slow_model_list_times_out(fake_llm: FakeLLM) -> None:
    fake_llm.models_reply = Reply(first_token_delay=5)
    with pytest.raises(TimedOut) as info:
        asyncio.run(list_models(endpoint(fake_llm, "chat"), timeout=0.3))
    assert str(info.value) == "The model list from Fake did not arrive within 0.3 s."


def test_cache_asks_once_and_refreshes_on_request(fake_llm: FakeLLM) -> None:
    cache = ModelCache()
    ep = endpoint(fake_llm, "chat")

    async def main() -> None:
        first, second = await asyncio.gather(cache.get(ep), cache.get(ep))
        assert first == second == ["fake-model", "fake-model-large"]
        assert len(fake_llm.requests_to(MODELS_PATH)) == 1  # shared, not asked twice
        fake_llm.models = ["new"]
        assert await cache.get(ep) == ["fake-model", "fake-model-large"]
        assert await cache.get(ep, refresh=True) == ["new"]
        assert cache.cached(ep) == ["new"]
        cache.forget(ep)
        assert cache.cached(ep) is None

    asyncio.run(main())
    assert len(fake_llm.requests_to(MODELS_PATH)) == 2


def test_cache_does_not_keep_failures(fake_llm: FakeLLM) -> None:
    cache = ModelCache()
    ep = endpoint(fake_llm, "chat")
    fake_llm.models_reply = Reply(status=500)

    async def main() -> None:
        with pytest.raises(ProviderError):
            await cache.get(ep)
        fake_llm.models_reply = None
        assert await cache.get(ep) == ["fake-model", "fake-model-large"]

    asyncio.run(main())


def test_model_hint() -> None:
    assert model_hint("gpt-4o-mni", ["gpt-4o", "gpt-4o-mini", "o3"]).startswith("Did you mean")
    assert model_hint("x", []) == ""
    many = [f"m{i:02d}" for i in range(12)]
    assert model_hint("zzz", many) == (
        "Available: m00, m01, m02, m03, m04, m05, m06, m07 and 4 more."
    )
