"""Time to first token counts from the request, and requests to a local server take turns."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from promptstudio.chat import Message
from promptstudio.providers import Endpoint, ProviderProfile, StreamCut
from promptstudio.providers.failures import ended_early
from promptstudio.runs import RunSession, RunTarget, ServerLimits, TargetResult, TargetStatus
from promptstudio.settings.profiles import ProfileStore
from tests.fake_llm import FakeLLM, Reply

MESSAGES = (Message("user", "Say hello to me"),)
DELAY = 0.4


def target(base_url: str, key: str, **endpoint: object) -> RunTarget:
    options: dict[str, object] = {"name": "Fake", "max_retries": 0, "first_token_timeout": 10.0}
    options.update(endpoint)
    return RunTarget(key, Endpoint(base_url=base_url, **options), "fake-model")  # type: ignore[arg-type]


def assert_ttfts_near(ttfts: list[float | None], delay_ms: float) -> None:
    """Every TTFT is the server's delay plus a little, and they agree with each other."""
    assert all(t is not None for t in ttfts), ttfts
    times = [t for t in ttfts if t is not None]
    assert min(times) >= delay_ms - 5, times  # never less than what the server waited
    assert max(times) <= delay_ms * 1.15, times  # the first run paid no start-up of ours
    assert max(times) - min(times) <= delay_ms * 0.1, times


class Statuses:
    def __init__(self) -> None:
        self.seen: dict[str, list[TargetStatus]] = {}

    def __call__(self, key: str, result: TargetResult, delta: str) -> None:
        seen = self.seen.setdefault(key, [])
        if not seen or seen[-1] != result.status:
            seen.append(result.status)


@pytest.mark.parametrize("at_once", [None, 3], ids=["queued", "at-once"])
def test_identical_targets_report_the_servers_delay_as_ttft(
    fake_llm: FakeLLM, at_once: int | None
) -> None:
    fake_llm.script(Reply(text="same answer", first_token_delay=DELAY))
    targets = [target(fake_llm.base_url, k, max_concurrent=at_once) for k in "abc"]
    results = asyncio.run(RunSession(MESSAGES, targets).run())
    assert all(r.status is TargetStatus.DONE for r in results.values())
    assert_ttfts_near([r.ttft_ms for r in results.values()], DELAY * 1000)
    for result in results.values():  # total counts from the same moment
        assert result.total_ms is not None and result.ttft_ms is not None
        assert 0 <= result.total_ms - result.ttft_ms < 100


def test_three_targets_on_an_interrupting_local_server_all_finish() -> None:
    """llama-cpp-python's server cuts the stream it serves when a request arrives; a
    local server gets one request at a time by default, so nothing is cut."""
    answer = "a full answer " * 5
    with FakeLLM(interrupt_requests=True) as server:
        server.script(Reply(text=answer, first_token_delay=0.1, tokens_per_second=200))
        statuses = Statuses()
        session = RunSession(
            MESSAGES, [target(server.base_url, k) for k in "abc"], on_update=statuses
        )
        results = asyncio.run(session.run())
        assert server.interrupted == 0
    assert [r.status for r in results.values()] == [TargetStatus.DONE] * 3
    assert all(r.text == answer for r in results.values())
    # The first goes at once; the other two waited their turn, shown as queued.
    assert statuses.seen["a"][0] is TargetStatus.WAITING
    assert statuses.seen["b"][0] is TargetStatus.QUEUED
    assert statuses.seen["c"][0] is TargetStatus.QUEUED


def test_sent_at_once_the_server_cuts_earlier_streams_and_the_message_says_why() -> None:
    with FakeLLM(interrupt_requests=True) as server:
        server.script(Reply(first_token_delay=0.3))
        targets = [target(server.base_url, k, max_concurrent=3) for k in "abc"]
        results = asyncio.run(RunSession(MESSAGES, targets).run())
        assert server.interrupted >= 1
    failed = [r for r in results.values() if r.status is TargetStatus.FAILED]
    assert failed and len(failed) == server.interrupted
    for result in failed:
        assert isinstance(result.error, StreamCut)
        message = result.error.message
        assert "ended before the model finished (after 0 tokens)" in message
        assert "--interrupt_requests" in message and "one request at a time" in message


def test_a_cut_on_a_hosted_server_does_not_blame_llama_cpp() -> None:
    message = ended_early(Endpoint("https://api.example.com/v1"), 3).message
    assert message == "The stream ended before the model finished (after 3 tokens)."
    local = Endpoint("http://localhost:8080/v1")
    assert "--interrupt_requests" in ended_early(local, 0).message
    assert "--interrupt_requests" not in ended_early(local, 0, "messages").message


def test_a_profiles_limit_is_honoured(fake_llm: FakeLLM, tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.add(
        ProviderProfile(
            id="fake", kind="openai-compatible", name="Fake", base_url=fake_llm.base_url,
            needs_key=False, max_concurrent=2,
        )
    )  # fmt: skip
    [stored] = json.loads((tmp_path / "profiles.json").read_text())["profiles"]
    assert stored["max_concurrent"] == 2
    reloaded = ProfileStore(tmp_path)
    endpoint = reloaded.get("fake").to_endpoint(None, max_retries=0)
    assert endpoint.max_concurrent == 2
    fake_llm.script(Reply(text="ok", first_token_delay=0.3))
    targets = [RunTarget(k, endpoint, "fake-model") for k in "abcd"]
    results = asyncio.run(RunSession(MESSAGES, targets).run())
    assert all(r.status is TargetStatus.DONE for r in results.values())
    arrived = sorted(r.received_at for r in fake_llm.chat_requests())
    assert arrived[1] - arrived[0] < 0.2  # two at once...
    assert arrived[2] - arrived[0] >= 0.3  # ...and the next only when one had ended
    assert arrived[3] - arrived[1] >= 0.3


def test_default_limits_by_where_the_server_is() -> None:
    limits = ServerLimits()
    assert limits.limit_for(Endpoint("http://localhost:11434/v1")) == 1
    assert limits.limit_for(Endpoint("http://127.0.0.1:8080/v1")) == 1
    assert limits.limit_for(Endpoint("https://api.openai.com/v1")) is None
    assert limits.limit_for(Endpoint("http://localhost:8000/v1", max_concurrent=8)) == 8
    assert limits.limit_for(Endpoint("https://api.openai.com/v1", max_concurrent=2)) == 2
    assert ServerLimits(remote=4).limit_for(Endpoint("https://api.openai.com/v1")) == 4


def test_cancelling_a_queued_target_sends_nothing_and_keeps_the_turns(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="first", first_token_delay=0.3))
    session = RunSession(MESSAGES, [target(fake_llm.base_url, k) for k in "abc"])

    async def main() -> dict[str, TargetResult]:
        running = asyncio.create_task(session.run())
        while session.results["a"].status is not TargetStatus.WAITING:
            await asyncio.sleep(0.01)
        session.cancel("b")
        return await running

    results = asyncio.run(main())
    assert results["b"].status is TargetStatus.CANCELLED and results["b"].total_ms is None
    assert results["a"].status is results["c"].status is TargetStatus.DONE
    assert len(fake_llm.chat_requests()) == 2


def test_an_evaluation_and_a_run_take_turns_at_one_local_server() -> None:
    from promptstudio.evals.results import EvalCase, EvalColumn
    from promptstudio.evals.runner import EvalTarget, Evaluation

    limits = ServerLimits()  # the app's, shared by its runs
    with FakeLLM(interrupt_requests=True) as server:
        server.script(Reply(text="4", first_token_delay=0.2))
        endpoint = Endpoint(server.base_url, max_retries=0)
        evaluation = Evaluation(
            "What is {{ a }} + 2?",
            [EvalCase(key=str(n), position=n, vars={"a": 2}, expected="4") for n in range(2)],
            [EvalTarget(EvalColumn("m", "m", "fake-model", server.base_url), endpoint)],
            share_turns=limits,
        )
        session = RunSession(MESSAGES, [RunTarget("run", endpoint, "fake-model")], limits=limits)

        async def both() -> dict[str, TargetResult]:
            _evaluated, ran = await asyncio.gather(evaluation.run(), session.run())
            return ran

        ran = asyncio.run(both())
        assert server.interrupted == 0
    assert ran["run"].status is TargetStatus.DONE
    assert all(cell.error is None for cell in evaluation.result.cells.values())
    assert len(evaluation.result.cells) == 2
