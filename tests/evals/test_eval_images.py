"""An evaluation of a stored version whose image file is gone since sends the library's
copy of the image, and says so (issue 17, Images)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from promptstudio.evals.results import EvalCase, EvalColumn
from promptstudio.evals.runner import EvalTarget, Evaluation
from promptstudio.images import image_from_bytes
from promptstudio.providers import Endpoint
from tests.fake_llm import FakeLLM, Reply
from tests.images import data_url, png


def test_a_gone_image_file_is_sent_from_the_stored_copy(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script(Reply(text="A square."))
    gone = str(tmp_path / "moved-away.png")
    kept = image_from_bytes(png(5, 5), "it", gone, what="the stored image")
    column = EvalColumn(key="m", label="m", model="m", base_url=fake_llm.base_url)
    evaluation = Evaluation(
        "What is ![it]({{ photo }})? {{ q }}",
        [EvalCase("1", 0, vars={"q": "Shape?"})],
        [EvalTarget(column, Endpoint(fake_llm.base_url, max_retries=0))],
        values={"photo": gone},
        stored_images={gone: kept},
    )
    run = asyncio.run(evaluation.run())
    cell = run.cells[("1", "m")]
    assert cell.status == "done" and cell.text == "A square.", cell.error
    [request] = fake_llm.chat_requests()
    parts = request.json["messages"][0]["content"]
    assert {"type": "image_url", "image_url": {"url": data_url(png(5, 5))}} in parts
    assert evaluation.images.gone_note() == (
        f"The image file is gone ({gone}): sent the copy stored with the version."
    )
    # Without the stored copy the case cannot be sent, and says why.
    fake_llm.script(Reply(text="unused"))
    plain = Evaluation(
        "What is ![it]({{ photo }})?",
        [EvalCase("1", 0)],
        [EvalTarget(column, Endpoint(fake_llm.base_url, max_retries=0))],
        values={"photo": gone},
    )
    failed = asyncio.run(plain.run()).cells[("1", "m")]
    assert failed.status == "failed" and "does not exist" in (failed.error or "")
