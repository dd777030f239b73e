"""Embeddings from an OpenAI-compatible ``/embeddings`` endpoint, for ``similar`` and
``answer-relevance`` (llama.cpp's server and Ollama serve one; so does OpenAI).

The endpoint and model come from Settings (``checks.embeddings_*``). Each text's vector is
kept in the answer cache (a ``CachedAnswer`` whose text is the vector as JSON, under a key
of its own), so a rerun embeds nothing again; the API key is never part of the key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from promptstudio.errors import PromptStudioError
from promptstudio.evals.cache import AnswerCache, CachedAnswer
from promptstudio.providers import Endpoint

log = logging.getLogger(__name__)

_TIMEOUT: Final = 60.0


class EmbeddingsError(PromptStudioError):
    """The embeddings endpoint could not be reached or answered something unusable."""


@dataclass(frozen=True)
class EmbeddingsEndpoint:
    """Where embeddings come from (the endpoint carries the key, in memory only)."""

    endpoint: Endpoint
    model: str


def embeddings_key(base_url: str, model: str, text: str) -> str:
    """The cache key of one text's vector at one endpoint and model."""
    canonical = json.dumps(
        {"embeddings": base_url.rstrip("/"), "model": model, "input": text},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Embedder:
    """Embeds texts at one endpoint, through a cache when given; call it with a list."""

    def __init__(
        self,
        where: EmbeddingsEndpoint,
        cache: AnswerCache | None = None,
        client_factory: Callable[[Endpoint], Any] | None = None,
    ) -> None:
        self.where = where
        self.cache = cache
        self._client_factory = client_factory or _openai_client
        self._client: Any = None

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        base_url, model = self.where.endpoint.base_url, self.where.model
        keys = [embeddings_key(base_url, model, text) for text in texts]
        found: dict[str, list[float]] = {}
        if self.cache is not None:
            for key in dict.fromkeys(keys):
                hit = await self.cache.get(key)
                if hit is not None:
                    found[key] = json.loads(hit.text)
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        if missing:
            for text, vector in zip(missing, await self._ask(missing), strict=True):
                key = embeddings_key(base_url, model, text)
                found[key] = vector
                if self.cache is not None:
                    await self.cache.put(key, CachedAnswer(model=model, text=json.dumps(vector)))
        return [found[key] for key in keys]

    async def _ask(self, texts: list[str]) -> list[list[float]]:
        import openai

        if self._client is None:
            self._client = self._client_factory(self.where.endpoint)
        label = self.where.endpoint.label
        try:
            response = await self._client.embeddings.create(model=self.where.model, input=texts)
        except openai.APIStatusError as exc:
            raise EmbeddingsError(
                f"The embeddings endpoint {label} answered HTTP {exc.status_code}: {_message(exc)}"
            ) from exc
        except openai.APIError as exc:
            raise EmbeddingsError(f"The embeddings endpoint {label} failed: {exc}") from exc
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(texts):
            raise EmbeddingsError(
                f"The embeddings endpoint {label} returned {len(data)} vectors for "
                f"{len(texts)} texts."
            )
        return [[float(x) for x in item.embedding] for item in data]


def _message(exc: Any) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(exc.message)


def _openai_client(endpoint: Endpoint) -> Any:
    import openai

    from promptstudio.providers.streaming import NO_KEY_PLACEHOLDER

    return openai.AsyncOpenAI(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key or NO_KEY_PLACEHOLDER,
        max_retries=endpoint.max_retries,
        timeout=openai.Timeout(_TIMEOUT, connect=endpoint.connect_timeout),
        default_headers=dict(endpoint.extra_headers) or None,
    )
