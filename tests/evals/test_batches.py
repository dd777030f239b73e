"""Evaluations as provider batches, through the core (``evals.batches``) and the real SDKs."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from promptstudio.evals import batches
from promptstudio.evals.cache import LibraryCache
from promptstudio.evals.results import EvalCase, EvalColumn, summarize
from promptstudio.evals.runner import EvalTarget, Evaluation, JudgeSettings
from promptstudio.evals.store import load_run
from promptstudio.providers import Endpoint, ModelPrice, PriceTable
from promptstudio.runs.columns import ColumnConfig
from promptstudio.storage import Database, library
from promptstudio.storage import batches as stored
from promptstudio.storage.schema import MIGRATIONS
from tests.fake_llm import FakeLLM, Reply

KEY = "sk-batch-SENTINEL-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
PRICES = PriceTable({"fake-model": ModelPrice(input=2.0, output=4.0)})
CASES = tuple(
    EvalCase(
        key=f"c{n}", position=n, vars={"n": n}, asserts=({"type": "contains", "value": "yes"},)
    )
    for n in range(4)
)


def _endpoint(fake: FakeLLM, kind: str) -> Endpoint:
    url = fake.anthropic_base_url if kind == "anthropic" else fake.base_url
    return Endpoint(url, api_key=KEY, kind=kind)


def _evaluation(
    fake: FakeLLM, db: Database, kind: str = "openai"
) -> tuple[Evaluation, ColumnConfig]:
    endpoint = _endpoint(fake, kind)
    column = ColumnConfig(base_url=endpoint.base_url, model="fake-model", id="c1")
    target = EvalTarget(
        EvalColumn("c1", "fake-model", "fake-model", endpoint.base_url, {}), endpoint
    )
    evaluation = Evaluation(
        "Is {{ n }} even?", CASES, [target], cache=LibraryCache(db), price_table=PRICES
    )
    return evaluation, column


def _resolver(fake: FakeLLM) -> batches.Resolver:
    def resolve(target: Mapping[str, Any]) -> Endpoint:
        assert "api_key" not in str(target)
        return Endpoint(str(target["base_url"]), api_key=KEY, kind=str(target["kind"]))

    return resolve


def _version(db: Database) -> int:
    prompt = db.call(library.create_prompt, "p")
    return int(db.call(library.save_version, prompt.id, "Is {{ n }} even?", {}, {}, kind="run").id)


async def _collect_when_ended(db: Database, batch_id: int, fake: FakeLLM) -> batches.CollectResult:
    for _ in range(400):
        result = await batches.collect(db, batch_id, _resolver(fake), PRICES)
        if result.stored:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError("the batch never ended")


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_submit_then_collect_grades_caches_and_costs_at_the_batch_price(
    fake_llm: FakeLLM, tmp_path: Path, kind: str
) -> None:
    fake_llm.script(Reply(text="yes it is", input_tokens=1000))
    fake_llm.batches.seconds = 0.2
    with Database(tmp_path / "library.sqlite3") as db:
        evaluation, column = _evaluation(fake_llm, db, kind)
        submitted = asyncio.run(batches.submit(evaluation, [column], db, _version(db)))
        [batch] = submitted.batches
        run_id = submitted.run.id
        assert run_id is not None and batch.remote_id and submitted.run.status == "pending"
        assert db.call(load_run, run_id).status == "pending"
        result = asyncio.run(_collect_when_ended(db, batch.id, fake_llm))
        assert result.finished_run and len(result.cells) == 4
        run = db.call(load_run, run_id)
        assert not fake_llm.generation_requests()  # nothing sent live
    assert run.status == "done"
    assert all(cell.passed and cell.batch for cell in run.cells.values())
    # 1000 input tokens and 3 output tokens at half of $2 / $4 per million
    expected = 4 * (1000 * 2.0 + 3 * 4.0) / 1_000_000 / 2
    [summary] = summarize(run)
    assert summary.total_cost == pytest.approx(expected)
    assert summary.batch_cost == pytest.approx(expected) and summary.live_cost == 0
    assert KEY.encode() not in (tmp_path / "library.sqlite3").read_bytes()
    # The answers are in the cache: an evaluation of the same cells asks nothing.
    with Database(tmp_path / "library.sqlite3") as db:
        evaluation, column = _evaluation(fake_llm, db, kind)
        again = asyncio.run(batches.submit(evaluation, [column], db, _version(db)))
    assert again.batches == [] and again.run.status == "done"
    assert all(cell.cached for cell in again.run.cells.values())


def test_an_expired_batch_keeps_what_was_answered_and_says_why_for_the_rest(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.script(Reply(text="yes"))
    fake_llm.batches.fault = "expire"
    fake_llm.batches.seconds = 0.1
    with Database(tmp_path / "library.sqlite3") as db:
        evaluation, column = _evaluation(fake_llm, db)
        [batch] = asyncio.run(batches.submit(evaluation, [column], db, _version(db))).batches
        result = asyncio.run(_collect_when_ended(db, batch.id, fake_llm))
        assert result.batch.state == "expired"
        assert "expired" in (result.batch.error or "")
    failed = [cell for cell in result.cells if cell.status == "failed"]
    assert len(failed) == 2 and sum(1 for cell in result.cells if cell.passed) == 2
    assert all("expired before this request ran" in (cell.error or "") for cell in failed)


def test_a_batch_that_fails_validation_fails_its_cells_with_the_reason(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.batches.fault = "fail_validation"
    fake_llm.batches.seconds = 0.1
    with Database(tmp_path / "library.sqlite3") as db:
        evaluation, column = _evaluation(fake_llm, db)
        [batch] = asyncio.run(batches.submit(evaluation, [column], db, _version(db))).batches
        result = asyncio.run(_collect_when_ended(db, batch.id, fake_llm))
    assert result.batch.state == "failed"
    assert all("failed validation" in (cell.error or "") for cell in result.cells)


def test_anthropic_refusing_the_batch_fails_its_cells_and_the_evaluation_is_done(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.batches.fault = "fail_validation"
    with Database(tmp_path / "library.sqlite3") as db:
        evaluation, column = _evaluation(fake_llm, db, "anthropic")
        submitted = asyncio.run(batches.submit(evaluation, [column], db, _version(db)))
        assert submitted.run.id is not None
        run = db.call(load_run, submitted.run.id)
    [batch] = submitted.batches
    assert batch.collected and "could not be sent" in (batch.error or "")
    assert run.status == "done"
    assert all("custom_id values must be unique" in (c.error or "") for c in run.cells.values())


def test_two_collectors_store_the_batch_once(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.batches.seconds = 0.05
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        evaluation, column = _evaluation(fake_llm, db)
        [batch] = asyncio.run(batches.submit(evaluation, [column], db, _version(db))).batches

    async def both() -> list[Any]:
        await asyncio.sleep(0.1)
        with Database(path) as first, Database(path) as second:
            return list(
                await asyncio.gather(
                    batches.collect(first, batch.id, _resolver(fake_llm), PRICES),
                    batches.collect(second, batch.id, _resolver(fake_llm), PRICES),
                    return_exceptions=True,
                )
            )

    outcomes = asyncio.run(both())
    stored_once = [o for o in outcomes if isinstance(o, batches.CollectResult)]
    refused = [o for o in outcomes if isinstance(o, batches.AlreadyCollected)]
    assert len(stored_once) == 1 and len(refused) == 1, outcomes
    with Database(path) as db:
        assert len(db.call(library.eval_cells, stored_once[0].batch.eval_run_id)) == 4


def test_a_library_from_before_batches_gains_the_tables_and_keeps_its_evaluations(
    tmp_path: Path,
) -> None:
    path = tmp_path / "library.sqlite3"
    before = next(i for i, step in enumerate(MIGRATIONS) if "batches" in step.__name__)
    conn = sqlite3.connect(path)
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.commit()
    conn.close()
    with Database(path) as db:
        version = _version(db)
        assert db.call(stored.list_batches) == []
        run = db.call(
            library.save_eval_run,
            version,
            columns=[],
            cases=[],
            settings={},
            status="done",
            cells=[{"case_key": "c", "column_key": "m", "status": "done", "text": "kept"}],
        )
        [cell] = db.call(library.eval_cells, run.id)
    assert cell["text"] == "kept" and cell["batch"] is False


@pytest.mark.parametrize("created", [True, False])
def test_a_batch_whose_id_was_never_noted_is_found_or_sent_on_the_next_collect(
    fake_llm: FakeLLM, tmp_path: Path, created: bool
) -> None:
    """A process stopped after storing the batch (and maybe after the provider created it)
    but before noting its id: the next collect takes the batch made then, or sends it."""
    fake_llm.script(Reply(text="yes"))
    fake_llm.batches.seconds = 0.05
    with Database(tmp_path / "library.sqlite3") as db:
        evaluation, column = _evaluation(fake_llm, db)
        [batch] = asyncio.run(batches.submit(evaluation, [column], db, _version(db))).batches
        db.call(
            lambda c: c.execute(
                "UPDATE eval_batches SET remote_id = NULL, state = 'unsent' WHERE id = ?",
                (batch.id,),
            )
        )
        if not created:
            fake_llm.batches.batches.clear()
        result = asyncio.run(_collect_when_ended(db, batch.id, fake_llm))
    posts = [r for r in fake_llm.requests_to("/v1/batches") if r.method == "POST"]
    assert len(posts) == (1 if created else 2)  # never paid twice
    assert result.batch.remote_id is not None
    assert sum(1 for cell in result.cells if cell.passed) == 4


def test_rubric_checks_are_graded_on_collect_by_the_judge_reached_again(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    def respond(model: str, body: dict[str, Any]) -> Reply:
        asked = body["messages"][-1]["content"]
        if "Is in French" in asked:  # the judge's prompt carries the rubric
            return Reply(
                text=json.dumps({"reason": "ok", "score": 0.9, "pass": "Bonjour" in asked})
            )
        return Reply(text="Bonjour")

    fake_llm.respond(respond)
    fake_llm.batches.seconds = 0.05
    case = EvalCase(key="k", position=0, asserts=({"type": "llm-rubric", "value": "Is in French"},))
    with Database(tmp_path / "library.sqlite3") as db:
        endpoint = _endpoint(fake_llm, "openai")
        column = ColumnConfig(base_url=endpoint.base_url, model="fake-model", id="c1")
        eval_column = EvalColumn("c1", "fake-model", "fake-model", endpoint.base_url, {})
        evaluation = Evaluation(
            "Say hello",
            [case],
            [EvalTarget(eval_column, endpoint)],
            judge=JudgeSettings(endpoint, "fake-model"),
            cache=LibraryCache(db),
        )
        [batch] = asyncio.run(batches.submit(evaluation, [column], db, _version(db))).batches
        assert not fake_llm.chat_requests()  # nothing live until the answers are back
        result = asyncio.run(_collect_when_ended(db, batch.id, fake_llm))
    [cell] = result.cells
    assert cell.batch and cell.passed and cell.grades[0].score == 0.9
    assert len(fake_llm.chat_requests()) == 1  # the judge, live


def test_tool_calls_in_batch_answers_are_graded(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script(Reply(text="", tool_calls=[("get_weather", '{"city": "Paris"}')]))
    fake_llm.batches.seconds = 0.05
    wanted = {"name": "get_weather", "arguments": {"city": "Paris"}}
    case = EvalCase(key="k", position=0, asserts=({"type": "contains-tool-call", "value": wanted},))
    with Database(tmp_path / "library.sqlite3") as db:
        endpoint = _endpoint(fake_llm, "openai")
        column = ColumnConfig(base_url=endpoint.base_url, model="fake-model", id="c1")
        eval_column = EvalColumn("c1", "fake-model", "fake-model", endpoint.base_url, {})
        evaluation = Evaluation("Weather in Paris?", [case], [EvalTarget(eval_column, endpoint)])
        [batch] = asyncio.run(batches.submit(evaluation, [column], db, _version(db))).batches
        result = asyncio.run(_collect_when_ended(db, batch.id, fake_llm))
    [cell] = result.cells
    assert cell.passed, cell.grades


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_network_failure_while_sending_keeps_the_batch_to_send_on_the_next_collect(
    fake_llm: FakeLLM, tmp_path: Path, kind: str
) -> None:
    fake_llm.script(Reply(text="yes"))
    fake_llm.batches.seconds = 0.05
    fake_llm.batches.drop_creates = 1
    with Database(tmp_path / "library.sqlite3") as db:
        evaluation, column = _evaluation(fake_llm, db, kind)
        [batch] = asyncio.run(batches.submit(evaluation, [column], db, _version(db))).batches
        assert batch.remote_id is None and not batch.collected
        assert batch.state == "unsent" and "Not sent yet" in (batch.error or "")
        result = asyncio.run(_collect_when_ended(db, batch.id, fake_llm))
    assert result.batch.remote_id is not None
    assert sum(1 for cell in result.cells if cell.passed) == 4
