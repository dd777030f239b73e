"""``--var NAME=@PATH`` and image prompts on the command line (the installed entry point)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from tests.cli.test_cli import cli
from tests.fake_llm import CHAT_PATH, FakeLLM, Reply
from tests.images import GIF, data_url, png


def test_an_image_file_becomes_an_image(tmp_path: Path) -> None:
    template = tmp_path / "look.prompt"
    template.write_text("Describe ![photo]({{ photo }}) for {{ who }}.\n", encoding="utf-8")
    (tmp_path / "cat.gif").write_bytes(GIF)
    (tmp_path / "who.txt").write_text("a child\n", encoding="utf-8")
    done = cli("render", str(template), "--var", f"photo=@{tmp_path / 'cat.gif'}",
               "--var", f"who=@{tmp_path / 'who.txt'}", home=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [message] = json.loads(done.stdout)["messages"]
    assert message["content"] == [
        {"type": "text", "text": "Describe "},
        {"type": "image_url", "image_url": {"url": data_url(GIF, "image/gif")}},
        {"type": "text", "text": " for a child\n."},
    ]


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    template = tmp_path / "t.prompt"
    template.write_text("{{ x }}", encoding="utf-8")
    done = cli("render", str(template), "--var", "x=@nowhere.png", home=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "--var x=@nowhere.png: no such file" in done.stderr
    assert "Traceback" not in done.stderr
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    done = cli("render", str(template), "--var", f"x=@{tmp_path / 'blob.bin'}", home=tmp_path)
    assert done.returncode == 2 and "neither text nor a PNG, JPEG, GIF or WebP" in done.stderr


def test_double_at_is_a_literal_at(tmp_path: Path) -> None:
    template = tmp_path / "t.prompt"
    template.write_text("{{ x }}", encoding="utf-8")
    done = cli("render", str(template), "--var", "x=@@handle", home=tmp_path)
    assert json.loads(done.stdout)["messages"][0]["content"] == "@handle"


def test_relative_images_are_read_next_to_the_prompt_file(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "chart.png").write_bytes(png(3, 3))
    template = folder / "chart.prompt"
    template.write_text("What does ![chart](chart.png) show?", encoding="utf-8")
    with FakeLLM() as server:
        server.script(Reply(text="Growth."))
        done = cli("run", str(template), "--base-url", server.base_url, "--model", "fake",
                   home=tmp_path / "home")  # fmt: skip
        assert done.returncode == 0, done.stderr
        [request] = server.requests_to(CHAT_PATH)
    parts = request.json["messages"][0]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": data_url(png(3, 3))}}
    assert done.stdout == "Growth.\n"
    # The run's version keeps the image by hash (not inlined into the template).
    conn = sqlite3.connect(tmp_path / "home" / "library.sqlite3")
    try:
        stored = conn.execute(
            "SELECT v.name, v.source, i.size, i.data FROM version_images v "
            "JOIN images i USING (sha256)"
        ).fetchall()
    finally:
        conn.close()
    assert stored == [("chart", "chart.png", len(png(3, 3)), png(3, 3))]


def test_a_file_that_is_not_an_image_is_refused_before_sending(tmp_path: Path) -> None:
    template = tmp_path / "t.prompt"
    template.write_text("user:\n![doc](notes.png)\n", encoding="utf-8")
    (tmp_path / "notes.png").write_text("just text", encoding="utf-8")
    with FakeLLM() as server:
        done = cli("run", str(template), "--base-url", server.base_url, "--model", "fake",
                   home=tmp_path / "home")  # fmt: skip
        assert not server.requests
    assert done.returncode != 0
    assert f"{template}:2:1: The image file {tmp_path / 'notes.png'} is not a PNG" in done.stderr


def test_eval_stores_the_images_with_its_version_as_the_window_does(tmp_path: Path) -> None:
    (tmp_path / "red.png").write_bytes(png(4, 4))
    template = tmp_path / "look.prompt"
    template.write_text("user:\nWhat is ![it]({{ photo }})? {{ q }}\n", encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text("q,__expected\nShape?,contains: square\n", encoding="utf-8")
    with FakeLLM() as server:
        server.script(Reply(text="A square."))
        done = cli("eval", str(template), "--cases", str(cases), "--var",
                   f"photo={tmp_path / 'red.png'}", "--base-url", server.base_url,
                   "--model", "fake", home=tmp_path / "home")  # fmt: skip
        assert done.returncode == 0, done.stderr
        [request] = server.requests_to(CHAT_PATH)
    assert {"type": "image_url", "image_url": {"url": data_url(png(4, 4))}} in (
        request.json["messages"][0]["content"]
    )
    conn = sqlite3.connect(tmp_path / "home" / "library.sqlite3")
    try:
        stored = conn.execute(
            "SELECT v.name, v.source, i.data FROM eval_runs e "
            "JOIN version_images v ON v.version_id = e.version_id JOIN images i USING (sha256)"
        ).fetchall()
    finally:
        conn.close()
    assert stored == [("it", str(tmp_path / "red.png"), png(4, 4))]


def test_run_json_lists_the_image_inputs(tmp_path: Path) -> None:
    (tmp_path / "cat.gif").write_bytes(GIF)
    (tmp_path / "chart.png").write_bytes(png(3, 3))
    template = tmp_path / "look.prompt"
    template.write_text(
        "Compare ![photo]({{ photo }}) with ![chart](chart.png) and "
        "![logo](https://example.com/logo.png).",
        encoding="utf-8",
    )
    with FakeLLM() as server:
        server.script(Reply(text="Both."))
        done = cli("run", str(template), "--var", f"photo=@{tmp_path / 'cat.gif'}",
                   "--base-url", server.base_url, "--model", "fake", "--json",
                   home=tmp_path / "home")  # fmt: skip
    assert done.returncode == 0, done.stderr
    images = json.loads(done.stdout)["images"]
    assert images == [
        {"variable": "photo", "alt": "photo", "source": str(tmp_path / "cat.gif"),
         "media_type": "image/gif", "size": len(GIF), "sha256": hashlib.sha256(GIF).hexdigest()},
        {"variable": None, "alt": "chart", "source": "chart.png", "media_type": "image/png",
         "size": len(png(3, 3)), "sha256": hashlib.sha256(png(3, 3)).hexdigest()},
        {"variable": None, "alt": "logo", "source": "https://example.com/logo.png",
         "media_type": None, "size": None, "sha256": None},
    ]  # fmt: skip
    # The same hashes the library keeps the version's images by.
    conn = sqlite3.connect(tmp_path / "home" / "library.sqlite3")
    try:
        rows = conn.execute("SELECT sha256 FROM version_images ORDER BY position").fetchall()
    finally:
        conn.close()
    assert [row[0] for row in rows] == [image["sha256"] for image in images]


def test_eval_of_a_library_prompt_sends_a_gone_image_from_the_library(tmp_path: Path) -> None:
    photo = tmp_path / "red.png"
    photo.write_bytes(png(6, 6))
    template = tmp_path / "look.prompt"
    template.write_text("user:\nWhat is ![it](red.png)?\n", encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text("__expected\ncontains: square\n", encoding="utf-8")
    home = tmp_path / "home"
    with FakeLLM() as server:
        server.script(Reply(text="A square."))
        model = ["--base-url", server.base_url, "--model", "fake"]
        first = cli("run", str(template), *model, home=home)  # the version keeps the image
        assert first.returncode == 0, first.stderr
        photo.unlink()  # moved away since
        done = cli("eval", "look", "--cases", str(cases), *model, home=home)
        assert done.returncode == 0, done.stderr
        last = server.requests_to(CHAT_PATH)[-1]
    assert {"type": "image_url", "image_url": {"url": data_url(png(6, 6))}} in (
        last.json["messages"][0]["content"]
    )
    assert "The image file is gone (red.png): sent the copy stored with the version." in (
        done.stderr
    )
