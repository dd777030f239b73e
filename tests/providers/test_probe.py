"""The first-launch probe: local servers on loopback (fake ones on free ports), keys in env."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from promptstudio.providers.probe import (
    USUAL_SERVERS,
    Candidate,
    KeyInEnvironment,
    LocalServer,
    keys_in_environment,
    probe_local_servers,
)
from promptstudio.providers.profiles import ProviderProfile
from tests.fake_llm import FakeLLM
from tests.providers.helpers import closed_port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def _probe(candidates: list[Candidate], timeout: float = 0.3) -> list[LocalServer]:
    return asyncio.run(probe_local_servers(candidates, timeout=timeout))


def test_finds_servers_on_loopback_with_their_models(silent_port: int) -> None:
    with FakeLLM(models=["gemma-3-270m"]) as first, FakeLLM(models=["b", "a"]) as second:
        found = _probe([
            Candidate("First", first.port), Candidate("Nobody", closed_port()),
            Candidate("Silent", silent_port), Candidate("Second", second.port),
        ])  # fmt: skip
        assert found == [
            LocalServer("First", first.base_url, ("gemma-3-270m",)),
            LocalServer("Second", second.base_url, ("a", "b")),
        ]
        assert [r.path for r in first.requests] == ["/v1/models"]
        assert "authorization" not in first.requests[0].headers  # no key goes to a probe


def test_servers_that_never_answer_cost_one_timeout_together(silent_port: int) -> None:
    candidates = [Candidate(f"Silent {n}", silent_port) for n in range(4)]
    started = time.monotonic()
    assert _probe(candidates, timeout=0.3) == []
    assert time.monotonic() - started < 1.0  # concurrent: not 4 × 0.3 s plus slack


def test_a_web_server_that_is_not_a_model_server_is_ignored(tmp_path: Path) -> None:
    handler = lambda *a: SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "v1").mkdir()
        (tmp_path / "v1" / "models").write_text("<html>not json</html>")
        assert _probe([Candidate("Web", server.server_address[1])]) == []
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_wanting_a_key_is_found_without_models() -> None:
    with FakeLLM(require_key="secret") as server:
        assert _probe([Candidate("Locked", server.port)]) == [
            LocalServer("Locked", server.base_url, (), needs_key=True)
        ]


def test_a_usual_port_uses_its_preset() -> None:
    assert {c.profile_id for c in USUAL_SERVERS} == {"ollama", "lm-studio", "llama-cpp", "vllm"}
    assert {c.port for c in USUAL_SERVERS} == {11434, 1234, 8080, 8000}


def test_keys_in_the_environment() -> None:
    env = {"OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "  ", "GROQ_API_KEY": "g"}
    assert keys_in_environment(environ=env) == [
        KeyInEnvironment("openai", "OpenAI", "OPENAI_API_KEY"),
        KeyInEnvironment("groq", "Groq", "GROQ_API_KEY"),
    ]
    proxy = ProviderProfile(id="proxy", kind="openai-compatible", name="Proxy",
                            base_url="http://10.0.0.2/v1", key_env="MY_PROXY_KEY")  # fmt: skip
    assert keys_in_environment([proxy], {"MY_PROXY_KEY": "k"}) == [
        KeyInEnvironment("proxy", "Proxy", "MY_PROXY_KEY")
    ]
    assert keys_in_environment(environ={}) == []
