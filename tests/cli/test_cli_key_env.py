"""A profile names its own key variable (``--key-env``): a custom endpoint gets a key in a
headless shell, and only that profile's requests carry it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import cli
from tests.fake_llm import FakeLLM, Reply

PROXY_KEY = "proxy-SENTINEL-5f4e3d2c1b0a99887766"


def _run(template: Path, home: Path, *where: str) -> None:
    done = cli("run", str(template), *where, "--model", "m", home=home)
    assert done.returncode == 0, done.stderr
    assert PROXY_KEY not in done.stdout + done.stderr


def test_a_profile_key_variable_reaches_only_that_profile(
    tmp_path: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    template = tmp_path / "hello.prompt"
    template.write_text("user:\nHello\n", encoding="utf-8")
    fake_llm.script(Reply(text="hi"))
    added = cli("providers", "add", "proxy", "--name", "My proxy", "--base-url",
                fake_llm.base_url, "--key-env", "MY_PROXY_KEY", home=home)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "$MY_PROXY_KEY" in added.stderr
    other = cli("providers", "add", "other", "--name", "Same server, no variable",
                "--base-url", fake_llm.base_url, home=home)  # fmt: skip
    assert other.returncode == 0, other.stderr
    monkeypatch.setenv("MY_PROXY_KEY", PROXY_KEY)

    _run(template, home, "--profile", "proxy")
    assert fake_llm.chat_requests()[-1].headers["authorization"] == f"Bearer {PROXY_KEY}"
    _run(template, home, "--profile", "other")
    _run(template, home, "--base-url", fake_llm.base_url)
    sent = [r.headers.get("authorization", "") for r in fake_llm.chat_requests()]
    assert len(sent) == 3
    assert PROXY_KEY in sent[0] and all(PROXY_KEY not in header for header in sent[1:])

    status = cli("keys", "status", "proxy", "--json", home=home)
    assert status.returncode == 0, status.stderr
    [row] = json.loads(status.stdout)
    assert (row["source"], row["env_var"]) == ("environment", "MY_PROXY_KEY")
    assert PROXY_KEY not in status.stdout + status.stderr
    stored = (home / "profiles.json").read_text(encoding="utf-8")
    assert '"key_env": "MY_PROXY_KEY"' in stored
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not [p for p in files if PROXY_KEY.encode() in p.read_bytes()]


def test_a_key_instead_of_a_variable_name_is_refused(tmp_path: Path) -> None:
    done = cli("providers", "add", "proxy", "--name", "P", "--base-url", "http://10.0.0.2/v1",
               "--key-env", "sk-live-0123456789abcdef", home=tmp_path)  # fmt: skip
    assert done.returncode == 1 and "NAME of an environment variable" in done.stderr
    assert "sk-live-0123456789abcdef" not in done.stderr
    assert not (tmp_path / "profiles.json").exists()


def test_keys_set_refuses_a_plaintext_keyring_and_writes_no_file(tmp_path: Path) -> None:
    pytest.importorskip("keyrings.alt.file", reason="keyrings.alt is a dev dependency")
    import os
    import subprocess

    from tests.cli.test_cli import PROMPTSTUDIO

    xdg = tmp_path / "xdg"  # where PlaintextKeyring would write keyring_pass.cfg
    env = {**os.environ, "PROMPTSTUDIO_HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(xdg),
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}  # fmt: skip
    done = subprocess.run([*PROMPTSTUDIO, "keys", "set", "openai"], env=env, input=PROXY_KEY,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert "PlaintextKeyring" in done.stderr and "not secure" in done.stderr
    assert "--key-env" in done.stderr and PROXY_KEY not in done.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not [p for p in files if PROXY_KEY.encode() in p.read_bytes()]
    status = subprocess.run([*PROMPTSTUDIO, "keys", "status", "openai"], env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "PlaintextKeyring" in status.stderr and status.stdout.startswith("openai")
