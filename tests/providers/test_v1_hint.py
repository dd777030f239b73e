"""A base URL without /v1: the 404 is for the path, and the message says so (issue 14.30)."""

from __future__ import annotations

import asyncio

import pytest

from promptstudio.providers import Endpoint, ModelNotFound, ProviderError, list_models
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import collect, error_of


def _advice(server: FakeLLM, path: str) -> str:
    return (
        f"The server answered 404 for {server.root_url}{path}; it serves the API under "
        f"{server.base_url} — set the base URL to that."
    )


@pytest.mark.parametrize("json_404", [False, True], ids=["text-404", "json-404"])
@pytest.mark.parametrize(
    ("api", "path"), [("chat", "/chat/completions"), ("responses", "/responses")]
)
def test_a_missing_v1_is_named_with_the_url_to_use(
    fake_llm: FakeLLM, json_404: bool, api: str, path: str
) -> None:
    fake_llm.json_not_found = json_404
    ep = Endpoint(base_url=fake_llm.root_url + "/", name="Fake", max_retries=0, api=api)
    error = error_of(collect(ep, model="fake-model"))
    assert isinstance(error, ModelNotFound) and error.url_suspect
    assert str(error) == _advice(fake_llm, path)
    assert "was not found" not in str(error)
    assert [r.path for r in fake_llm.requests if r.method == "GET"] == ["/v1/models"]


def test_a_missing_v1_and_an_unknown_model_say_both(fake_llm: FakeLLM) -> None:
    ep = Endpoint(base_url=fake_llm.root_url, name="Fake", max_retries=0)
    error = error_of(collect(ep, model="fake-modl"))
    assert str(error) == (
        _advice(fake_llm, "/chat/completions")
        + " Model 'fake-modl' is not among its models either. Did you mean fake-model or "
        "fake-model-large?"
    )


def test_with_v1_an_unknown_model_is_still_reported_with_the_models_on_offer(
    fake_llm: FakeLLM,
) -> None:
    fake_llm.script(Reply(status=404), model="zzz")
    ep = Endpoint(base_url=fake_llm.base_url, name="Fake", max_retries=0)
    error = error_of(collect(ep, model="zzz"))
    assert (
        str(error) == "Model 'zzz' was not found at Fake. Available: fake-model, fake-model-large."
    )


def test_a_slow_v1_check_gives_up_quickly(
    fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptstudio.providers import models

    monkeypatch.setattr(models, "V1_CHECK_TIMEOUT", 0.3)
    fake_llm.models_reply = Reply(first_token_delay=5)
    ep = Endpoint(base_url=fake_llm.root_url, name="Fake", max_retries=0)
    error = error_of(collect(ep, model="fake-model"))
    assert isinstance(error, ModelNotFound)
    assert str(error).startswith("Model 'fake-model' was not found at Fake. Check the base URL")


def test_listing_models_without_v1_names_the_url_to_use(fake_llm: FakeLLM) -> None:
    ep = Endpoint(base_url=fake_llm.root_url, name="Fake", max_retries=0)
    with pytest.raises(ProviderError) as caught:
        asyncio.run(list_models(ep))
    assert str(caught.value) == _advice(fake_llm, "/models")
