"""promptfoo's model-graded, embedding, logprob and code checks, graded through an evaluation
against the fake server (which plays the answering models, the judge and the embeddings)."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import openai
import pytest
from openai.types import CreateEmbeddingResponse, Embedding
from openai.types.chat import ChatCompletionChunk, ChatCompletionTokenLogprob
from openai.types.chat.chat_completion_chunk import ChoiceLogprobs
from openai.types.create_embedding_response import Usage

from promptstudio.evals import checks_model, model_prompts
from promptstudio.evals.cache import MemoryCache
from promptstudio.evals.checks_model import CheckInput, CheckTools, cosine, perplexity
from promptstudio.evals.embeddings import Embedder, EmbeddingsEndpoint, EmbeddingsError
from promptstudio.evals.graders import Answer, GraderError, check_assertion
from promptstudio.evals.results import EvalCase, EvalColumn, EvalRun
from promptstudio.evals.runner import EvalError, EvalTarget, Evaluation, JudgeSettings
from promptstudio.providers import Endpoint
from tests.fake_llm import FakeLLM, Reply

TEMPLATE = "user:\nWhat is the capital of {{ country }}?"


def target(server: FakeLLM, model: str) -> EvalTarget:
    column = EvalColumn(key=model, label=model, model=model, base_url=server.base_url)
    return EvalTarget(column, Endpoint(base_url=server.base_url, max_retries=0))


def judge(server: FakeLLM) -> JudgeSettings:
    return JudgeSettings(Endpoint(base_url=server.base_url, max_retries=0), "judge")


def embedder(server: FakeLLM, cache: MemoryCache | None = None) -> Embedder:
    endpoint = Endpoint(base_url=server.base_url, max_retries=0)
    return Embedder(EmbeddingsEndpoint(endpoint, "fake-embed"), cache)


def plays(answers: dict[str, str], judge_by: dict[str, str]) -> Any:
    """Models answer from ``answers``; the judge replies by a marker found in its prompt."""

    def respond(model: str, body: dict[str, Any]) -> Reply | None:
        if model != "judge":
            return Reply(text=answers[model])
        prompt = "\n".join(str(message["content"]) for message in body["messages"])
        for marker, reply in judge_by.items():
            if marker in prompt:
                return Reply(text=reply)
        return Reply(text="no idea")

    return respond


def evaluate(
    server: FakeLLM,
    checks: list[dict[str, Any]],
    *,
    models: tuple[str, ...] = ("m",),
    variables: dict[str, Any] | None = None,
    tools: CheckTools | None = None,
    threshold: float | None = None,
    with_judge: bool = True,
) -> EvalRun:
    case = EvalCase(
        key="1",
        position=0,
        vars={"country": "France", **(variables or {})},
        asserts=tuple(checks),
        threshold=threshold,
    )
    evaluation = Evaluation(
        TEMPLATE,
        [case],
        [target(server, model) for model in models],
        judge=judge(server) if with_judge else None,
        tools=tools,
        cache=MemoryCache(),
    )
    return asyncio.run(evaluation.run())


# ---- the judge's checks --------------------------------------------------------------------


@pytest.mark.parametrize(("category", "passed"), [("A", True), ("B", True), ("D", False)])
def test_factuality_passes_every_category_but_disagreement(
    fake_llm: FakeLLM, category: str, passed: bool
) -> None:
    fake_llm.respond(
        plays(
            {"m": "Paris."},
            {"(E) The answers differ": json.dumps({"category": category, "reason": "Compared."})},
        )
    )
    run = evaluate(fake_llm, [{"type": "factuality", "value": "Paris is the capital of France"}])
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is passed
    assert cell.grades[0].details["category"] == category
    asked = next(r for r in fake_llm.chat_requests() if r.json["model"] == "judge")
    prompt = json.dumps(asked.json["messages"])
    assert "Paris is the capital of France" in prompt and "What is the capital of France" in prompt


@pytest.mark.parametrize(("verdict", "passed"), [("Y", True), ("N", False)])
def test_closedqa_passes_on_yes(fake_llm: FakeLLM, verdict: str, passed: bool) -> None:
    fake_llm.respond(
        plays({"m": "Paris"}, {"<criterion>": json.dumps({"reason": "r", "verdict": verdict})})
    )
    run = evaluate(fake_llm, [{"type": "model-graded-closedqa", "value": "Names a city"}])
    assert run.cell("1", "m").passed is passed  # type: ignore[union-attr]


@pytest.mark.parametrize(("score", "passed"), [(8, True), (6, False)])
def test_g_eval_writes_steps_then_scores_against_the_threshold(
    fake_llm: FakeLLM, score: int, passed: bool
) -> None:
    fake_llm.respond(
        plays(
            {"m": "Paris"},
            {
                "write the evaluation steps": json.dumps({"steps": ["Read it", "Check the city"]}),
                "following the evaluation steps": json.dumps({"reason": "ok", "score": score}),
            },
        )
    )
    run = evaluate(fake_llm, [{"type": "g-eval", "value": ["Is correct", "Is concise"]}])
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is passed
    assert cell.grades[0].score == pytest.approx(score / 10)
    scored = [r for r in fake_llm.chat_requests() if "following" in json.dumps(r.json)]
    assert "2. Check the city" in json.dumps(scored[0].json)


def test_context_faithfulness_scores_supported_claims(fake_llm: FakeLLM) -> None:
    claims = [{"claim": "Paris is the capital", "supported": True}]
    claims.append({"claim": "Paris has 9 million people", "supported": False})
    fake_llm.respond(
        plays({"m": "Paris, 9 million"}, {"<context>": json.dumps({"claims": claims})})
    )
    variables = {"query": "Capital?", "context": ["Paris is the capital of France."]}
    check = {"type": "context-faithfulness", "threshold": 0.9}
    run = evaluate(fake_llm, [check], variables=variables)
    grade = run.cell("1", "m").grades[0]  # type: ignore[union-attr]
    assert (grade.passed, grade.score) == (False, 0.5)
    assert "1 of 2 claims" in grade.reason


def test_context_faithfulness_without_context_is_not_graded(fake_llm: FakeLLM) -> None:
    fake_llm.respond(plays({"m": "Paris"}, {}))
    run = evaluate(fake_llm, [{"type": "context-faithfulness"}])
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is None
    assert "needs a 'context' variable" in cell.grades[0].reason


def test_answer_relevance_compares_the_judges_questions_with_the_query(fake_llm: FakeLLM) -> None:
    questions = ["What is the capital of France?", "Which city is France's capital?"]
    fake_llm.respond(plays({"m": "Paris"}, {"<answer>": json.dumps({"questions": questions})}))
    tools = CheckTools(embed=embedder(fake_llm))
    check = {"type": "answer-relevance", "threshold": 0.5}
    run = evaluate(fake_llm, [check], variables={"query": "capital of France"}, tools=tools)
    grade = run.cell("1", "m").grades[0]  # type: ignore[union-attr]
    assert grade.passed and 0.5 <= grade.score <= 1
    embedded = fake_llm.embeddings_requests()[0].json["input"]
    assert embedded == ["capital of France", *questions]


def test_select_best_is_graded_after_every_column_answered(fake_llm: FakeLLM) -> None:
    fake_llm.respond(
        plays(
            {"a": "Lyon", "b": "Paris", "c": "Nice"},
            {"several outputs": json.dumps({"reason": "Paris is right", "best": 1})},
        )
    )
    run = evaluate(
        fake_llm, [{"type": "select-best", "value": "Is correct"}], models=("a", "b", "c")
    )
    verdicts = {key: run.cell("1", key).passed for key in "abc"}  # type: ignore[union-attr]
    # The answers reach the judge in column order: a, b, c.
    chosen = [k for k, v in verdicts.items() if v]
    assert len(chosen) == 1
    asked = [r for r in fake_llm.chat_requests() if r.json["model"] == "judge"]
    assert len(asked) == 1
    prompt = asked[0].json["messages"][-1]["content"]
    texts = [text for text in ("Lyon", "Paris", "Nice") if text in prompt]
    order = sorted(texts, key=prompt.index)
    assert chosen == ["abc"[("Lyon", "Paris", "Nice").index(order[1])]]


def test_judged_checks_need_a_judge(fake_llm: FakeLLM) -> None:
    with pytest.raises(EvalError, match="'g-eval' check needs a judge"):
        evaluate(fake_llm, [{"type": "g-eval", "value": "x"}], with_judge=False)


def test_an_unreadable_judge_reply_fails_the_check(fake_llm: FakeLLM) -> None:
    fake_llm.respond(plays({"m": "Paris"}, {"<criterion>": "Yes, I think so."}))
    run = evaluate(fake_llm, [{"type": "not-model-graded-closedqa", "value": "x"}])
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is False
    assert "could not be read" in cell.grades[0].reason


def test_every_judge_prompt_is_in_the_docs() -> None:
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "checks.md").read_text(encoding="utf-8")
    for name, prompt in model_prompts.PROMPTS.items():
        assert prompt in docs, name


# ---- similar and the embeddings endpoint ----------------------------------------------------


def test_similar_passes_at_the_threshold(fake_llm: FakeLLM) -> None:
    fake_llm.respond(plays({"m": "The capital of France is Paris"}, {}))
    tools = CheckTools(embed=embedder(fake_llm))
    close = {"type": "similar", "value": "Paris is the capital of France"}
    far = {"type": "similar", "value": "Bananas grow on trees", "threshold": 0.75}
    run = evaluate(fake_llm, [close, far], tools=tools, with_judge=False)
    cell = run.cell("1", "m")
    assert cell is not None
    assert [g.passed for g in cell.grades] == [True, False]


def test_similar_without_an_endpoint_is_not_graded_with_the_reason(fake_llm: FakeLLM) -> None:
    fake_llm.respond(plays({"m": "Paris"}, {}))
    run = evaluate(fake_llm, [{"type": "similar", "value": "Paris"}], with_judge=False)
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is None and cell.score is None
    assert "needs an embeddings endpoint" in cell.grades[0].reason


def test_the_embeddings_endpoint_is_shaped_like_openais(fake_llm: FakeLLM) -> None:
    async def ask() -> Any:
        client = openai.AsyncOpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0)
        raw = await client.embeddings.with_raw_response.create(model="e", input=["a b", "c"])
        return json.loads(raw.text)

    body = asyncio.run(ask())
    parsed = CreateEmbeddingResponse.model_validate(body, strict=True)
    assert set(body) == set(CreateEmbeddingResponse.model_fields)
    assert all(set(item) == set(Embedding.model_fields) for item in body["data"])
    assert set(body["usage"]) == set(Usage.model_fields)
    assert [item.index for item in parsed.data] == [0, 1]


def test_embeddings_are_cached(fake_llm: FakeLLM) -> None:
    cache = MemoryCache()
    first = asyncio.run(embedder(fake_llm, cache)(["one", "two", "one"]))
    again = asyncio.run(embedder(fake_llm, cache)(["two", "one"]))
    assert len(fake_llm.embeddings_requests()) == 1
    assert fake_llm.embeddings_requests()[0].json["input"] == ["one", "two"]
    assert again == [first[1], first[0]]


def test_a_failing_embeddings_endpoint_fails_the_check_not_the_run(fake_llm: FakeLLM) -> None:
    fake_llm.respond(plays({"m": "Paris"}, {}))
    fake_llm.embeddings_reply = Reply(status=404, error_message="model 'fake-embed' not found")
    with pytest.raises(EmbeddingsError, match="not found"):
        asyncio.run(embedder(fake_llm)(["x"]))
    run = evaluate(
        fake_llm,
        [{"type": "similar", "value": "Paris"}],
        tools=CheckTools(embed=embedder(fake_llm)),
        with_judge=False,
    )
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is False
    assert "embeddings endpoint failed" in cell.grades[0].reason


def test_cosine_edge_cases() -> None:
    assert cosine([1, 0], [1, 0]) == 1
    assert cosine([1, 0], [0, 1]) == 0
    assert cosine([0, 0], [1, 1]) == 0
    assert cosine([1], [1, 2]) == 0


# ---- perplexity -------------------------------------------------------------------------------


def test_perplexity_as_promptfoo_computes_it() -> None:
    logprobs = (-0.5, -1.0, -1.5)
    assert perplexity(logprobs) == pytest.approx(math.exp(1.0))
    answer = Answer("Paris is", logprobs=logprobs)

    def graded(check: dict[str, Any]) -> bool:
        result = asyncio.run(checks_model.grade(check, answer, CheckTools(), CheckInput()))
        return result.passed

    assert graded({"type": "perplexity", "threshold": 3})
    assert not graded({"type": "perplexity", "threshold": 2})
    assert graded({"type": "perplexity-score", "threshold": 0.26})  # 1 / (1 + e) = 0.269
    assert not graded({"type": "perplexity-score", "threshold": 0.27})


def test_perplexity_without_logprobs_is_not_graded() -> None:
    result = asyncio.run(
        checks_model.grade({"type": "perplexity"}, Answer("x"), CheckTools(), CheckInput())
    )
    assert checks_model.is_not_graded(result)
    assert "log-probabilities" in result.reason


def test_the_fake_servers_logprobs_are_shaped_like_openais(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="Paris is nice", logprob=-0.25))

    async def ask() -> list[dict[str, Any]]:
        client = openai.AsyncOpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0)
        raw = await client.chat.completions.with_raw_response.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True, logprobs=True
        )
        response = raw.http_response
        await response.aread()
        lines = response.text.splitlines()
        data = [line[6:] for line in lines if line.startswith("data: ")]
        return [json.loads(item) for item in data if item != "[DONE]"]

    chunks = asyncio.run(ask())
    with_logprobs = [c["choices"][0]["logprobs"] for c in chunks if c["choices"][0].get("logprobs")]
    assert "".join(item["content"][0]["token"] for item in with_logprobs) == "Paris is nice"
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk, strict=True)
    for item in with_logprobs:
        assert set(item) == set(ChoiceLogprobs.model_fields)
        assert set(item["content"][0]) == set(ChatCompletionTokenLogprob.model_fields)
        assert item["content"][0]["logprob"] == -0.25


# ---- javascript and malformed checks ------------------------------------------------------


def test_javascript_is_reported_as_not_graded_per_case(fake_llm: FakeLLM) -> None:
    fake_llm.respond(plays({"m": "Paris"}, {}))
    checks = [
        {"type": "javascript", "value": "output.length > 1"},
        {"type": "contains", "value": "Par"},
    ]
    run = evaluate(fake_llm, checks, with_judge=False)
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is True  # the contains check alone decides
    assert "JavaScript checks are not supported" in cell.grades[0].reason


@pytest.mark.parametrize(
    "check",
    [
        {"type": "g-eval"},
        {"type": "g-eval", "value": "x", "threshold": 7},
        {"type": "select-best"},
        {"type": "model-graded-closedqa", "value": ""},
        {"type": "similar", "value": 3},
        {"type": "perplexity", "threshold": 0.5},
        {"type": "python"},
        {"type": "python", "value": "file://check.py"},
    ],
)
def test_malformed_checks_are_refused(check: dict[str, Any]) -> None:
    with pytest.raises(GraderError):
        check_assertion(check)


def test_perplexity_asks_chat_completions_for_logprobs_and_grades_them(
    fake_llm: FakeLLM, tmp_path: Any
) -> None:
    from promptstudio.evals.cache import LibraryCache
    from promptstudio.storage import Database

    fake_llm.script(Reply(text="Paris is the capital", logprob=-0.5))
    case = EvalCase(
        key="1",
        position=0,
        vars={"country": "France"},
        asserts=({"type": "perplexity", "threshold": 2}, {"type": "contains", "value": "Paris"}),
    )
    with Database(tmp_path / "library.sqlite3") as db:
        for cached in (False, True):  # the second time from the library's cache, logprobs too
            run = asyncio.run(
                Evaluation(TEMPLATE, [case], [target(fake_llm, "m")], cache=LibraryCache(db)).run()
            )
            cell = run.cell("1", "m")
            assert cell is not None and cell.passed is True
            assert cell.grades[0].details["perplexity"] == pytest.approx(math.exp(0.5))
            assert cell.grades[0].details["tokens"] == 4
            assert cell.cached is cached
    [request] = fake_llm.chat_requests()
    assert request.json["logprobs"] is True


def test_perplexity_on_an_api_without_logprobs_is_not_graded(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="Paris"))
    column = EvalColumn(key="m", label="m", model="m", base_url=fake_llm.anthropic_base_url)
    endpoint = Endpoint(base_url=fake_llm.anthropic_base_url, kind="anthropic", max_retries=0)
    case = EvalCase(
        key="1", position=0, vars={"country": "France"}, asserts=({"type": "perplexity"},)
    )
    run = asyncio.run(Evaluation(TEMPLATE, [case], [EvalTarget(column, endpoint)]).run())
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is None
    assert "no token log-probabilities" in cell.grades[0].reason
    assert "logprobs" not in fake_llm.messages_requests()[0].json


def test_similar_on_a_case_without_expected_answer_fails_with_the_reason(
    fake_llm: FakeLLM,
) -> None:
    fake_llm.respond(plays({"m": "Paris"}, {}))
    tools = CheckTools(embed=embedder(fake_llm))
    run = evaluate(fake_llm, [{"type": "similar"}], tools=tools, with_judge=False)
    cell = run.cell("1", "m")
    assert cell is not None and cell.passed is False
    assert "needs a 'value', or the case needs an expected answer" in cell.grades[0].reason
