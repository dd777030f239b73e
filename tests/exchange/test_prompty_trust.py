"""What the README says about the real ``prompty`` runtime and servers other than OpenAI's."""

from __future__ import annotations

from pathlib import Path

import prompty
import pytest

from promptstudio.exchange import PromptDocument, to_prompty
from tests.exchange.samples import columns

OLLAMA = {"id": "c1", "profile": "ollama", "base_url": "http://localhost:11434/v1",
          "model": "llama3.2", "params": {"temperature": 0.3}}  # fmt: skip


def _write(tmp_path: Path) -> Path:
    doc = PromptDocument(name="Local", template="user:\nhi {{ x }}", variables={"x": "there"},
                         columns=columns(OLLAMA))  # fmt: skip
    path = tmp_path / "local.prompty"
    path.write_text(to_prompty(doc), encoding="utf-8")
    return path


def test_prompty_refuses_a_local_server_until_it_is_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path)
    monkeypatch.delenv("PROMPTY_TRUSTED_ENDPOINTS", raising=False)
    with pytest.raises(Exception, match="not trusted"):
        prompty.load(str(path))
    monkeypatch.setenv("PROMPTY_TRUSTED_ENDPOINTS", "http://localhost:11434")
    agent = prompty.load(str(path))
    model = agent.model
    assert model is not None and model.id == "llama3.2"
    assert getattr(model.connection, "endpoint", None) == "http://localhost:11434/v1"
    messages = prompty.prepare(agent, inputs={})
    assert messages[0].parts[0].value == "hi there"
