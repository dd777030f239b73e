"""The answer cache: an identical request is answered from what the model said before.

A request is identical when the endpoint's URL and API, the model, every generation
setting and the exact messages are the same; the API key is never part of the key (nor
stored). Only complete answers are kept. Evaluations ask the cache first unless the user
wants fresh answers; a hit costs nothing and says so.

The library keeps the cache (:class:`LibraryCache`), so a rerun tomorrow is a hit too;
:class:`MemoryCache` serves the CLI's one-shot runs and tests. A cache that fails to read
or write is logged and treated as a miss: it never stops an evaluation.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from promptstudio.chat import Message, ToolCall
from promptstudio.errors import PromptStudioError
from promptstudio.runs import RunTarget, TargetResult
from promptstudio.tools import ToolDef

if TYPE_CHECKING:
    from promptstudio.storage import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedAnswer:
    """A complete answer as received: its text, how it ended, and what it took."""

    model: str
    text: str
    finish_reason: str | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    usage_estimated: bool = False
    logprobs: tuple[float, ...] | None = None  # per token, when the request asked for them
    tool_calls: tuple[ToolCall, ...] = ()

    @classmethod
    def from_result(cls, result: TargetResult) -> CachedAnswer:
        usage = result.usage
        return cls(
            model=result.target.model,
            text=result.text,
            finish_reason=result.finish_reason,
            ttft_ms=result.ttft_ms,
            total_ms=result.total_ms,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            usage_estimated=bool(usage and usage.estimated),
            logprobs=result.logprobs,
            tool_calls=result.tool_calls,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CachedAnswer:
        return cls(
            model=str(data.get("model") or ""),
            text=str(data.get("text") or ""),
            finish_reason=data.get("finish_reason"),
            ttft_ms=data.get("ttft_ms"),
            total_ms=data.get("total_ms"),
            input_tokens=data.get("input_tokens"),
            output_tokens=data.get("output_tokens"),
            usage_estimated=bool(data.get("usage_estimated")),
            logprobs=_logprobs(data.get("logprobs")),
            tool_calls=tuple(ToolCall.from_dict(c) for c in data.get("tool_calls") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if not self.tool_calls:
            del data["tool_calls"]
        return data


def _logprobs(raw: object) -> tuple[float, ...] | None:
    if isinstance(raw, str):  # the library keeps them as JSON text
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, list | tuple) and all(isinstance(x, int | float) for x in raw):
        return tuple(float(x) for x in raw) or None
    return None


def request_key(
    target: RunTarget,
    messages: Sequence[Message],
    sample: int = 0,
    tools: Sequence[ToolDef] = (),
) -> str:
    """The cache key of sending ``messages`` to ``target`` (SHA-256 of canonical JSON).

    ``sample`` tells repeats of one request apart: the n-th repeat is its own answer, kept
    and found again by its number. The first (0) has the key it had before repeats, so
    caches written then still answer. ``tools`` are part of the request when it has any.
    """
    endpoint = target.endpoint
    request: dict[str, Any] = {
        "base_url": endpoint.base_url.rstrip("/"),
        "kind": endpoint.kind,
        "api": endpoint.api,
        "model": target.model,
        "params": target.params.to_dict(),
        "messages": [message.to_dict() for message in messages],
    }
    if sample:
        request["sample"] = sample
    if target.logprobs:  # an answer with them is another answer (keys without stay as they were)
        request["logprobs"] = True
    if tools:  # a request without tools keeps the key it had before tools existed
        request["tools"] = [tool.to_dict() for tool in tools]
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AnswerCache(Protocol):
    async def get(self, key: str) -> CachedAnswer | None: ...

    async def put(self, key: str, answer: CachedAnswer) -> None: ...


class MemoryCache:
    """A cache for one process: a dict."""

    def __init__(self) -> None:
        self.answers: dict[str, CachedAnswer] = {}

    async def get(self, key: str) -> CachedAnswer | None:
        return self.answers.get(key)

    async def put(self, key: str, answer: CachedAnswer) -> None:
        self.answers[key] = answer


class LibraryCache:
    """The cache in the library file, read and written on the database's own thread."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._put_failed = False  # a full disk is said once, not once per case

    async def get(self, key: str) -> CachedAnswer | None:
        from promptstudio.storage import library

        try:
            found = await self.db.acall(library.cache_get, key)
        except PromptStudioError as exc:
            log.warning("could not read the answer cache: %s", exc)
            return None
        return None if found is None else CachedAnswer.from_dict(found)

    async def put(self, key: str, answer: CachedAnswer) -> None:
        from promptstudio.storage import library

        if answer.tool_calls:  # the library's table has no place for them: ask again
            return
        try:
            await self.db.acall(library.cache_put, key, answer.to_dict())
        except PromptStudioError as exc:
            level = logging.DEBUG if self._put_failed else logging.WARNING
            self._put_failed = True
            log.log(level, "could not keep an answer in the cache: %s", exc)
