"""Images through export and import: Prompty ``kind: image`` (held to the real runtime),
promptfoo content parts, PromptStudio JSON, and the code snippets."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import prompty
import pytest
import yaml

from promptstudio.chat import Image, Message, Text
from promptstudio.exchange import (
    ExchangeError,
    PromptDocument,
    to_curl,
    to_promptfoo,
    to_prompty,
    to_python_anthropic,
    to_python_openai,
)
from promptstudio.exchange.formats import import_text
from promptstudio.exchange.json_format import from_json, to_json
from promptstudio.exchange.library_io import import_documents
from promptstudio.providers.content_parts import anthropic_message
from promptstudio.storage import Database, library
from promptstudio.templating import render_messages
from tests.exchange.samples import columns
from tests.fake_llm import FakeLLM, Reply
from tests.images import GIF, data_url, png

TEMPLATE = (
    "system:\nBe brief.\nuser:\nWhat is in ![cat]({{ photo }}) and ![chart](chart.gif)? {{ q }}"
)


@pytest.fixture
def doc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PromptDocument:
    (tmp_path / "cat.png").write_bytes(png(4, 4))
    (tmp_path / "chart.gif").write_bytes(GIF)
    monkeypatch.chdir(tmp_path)  # the app reads relative image paths from here
    variables = {"photo": str(tmp_path / "cat.png"), "q": "Answer briefly."}
    return PromptDocument(name="Look", template=TEMPLATE, variables=variables)


Flat = list[tuple[str, str, str]]


def flat(messages: list[Message]) -> Flat:
    """(role, kind, text or image URL) per part, text stripped, empty text left out."""
    out: Flat = []
    for message in messages:
        for part in message.segments():
            if isinstance(part, Text):
                if part.text.strip():
                    out.append((message.role, "text", part.text.strip()))
            elif isinstance(part, Image):
                out.append((message.role, "image", part.data_url()))
    return out


def theirs(path: Path) -> Flat:
    out: Flat = []
    for message in prompty.prepare(prompty.load(str(path)), inputs={}):
        role = "system" if message.role == "developer" else message.role
        for part in message.parts:
            if isinstance(part, prompty.ImagePart):
                out.append((role, "image", part.source))
            elif getattr(part, "value", "").strip():
                out.append((role, "text", part.value.strip()))
    return out


def test_prompty_export_runs_in_the_real_runtime_with_the_same_images(
    doc: PromptDocument, tmp_path: Path
) -> None:
    text = to_prompty(doc)
    assert "kind: image" in text and "![" not in text.split("---")[2]
    path = tmp_path / "out" / "look.prompty"  # elsewhere: the images travel inside
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    ours = flat(render_messages(doc.template, doc.variables))
    assert [kind for _role, kind, _value in ours].count("image") == 2
    assert theirs(path) == ours


def test_prompty_round_trip_gives_the_markup_back(doc: PromptDocument) -> None:
    [back] = import_text("look.prompty", to_prompty(doc))
    assert back.template == TEMPLATE
    assert back.variables["photo"] == data_url(png(4, 4))  # embedded, portable
    assert "image1" not in back.variables


def test_a_foreign_prompty_image_input_becomes_an_image(tmp_path: Path) -> None:
    text = (
        "---\nname: t\ninputs:\n  - name: photo\n    kind: image\n"
        f"    default: {data_url(GIF, 'image/gif')}\n---\nuser:\nDescribe {{{{ photo }}}} please.\n"
    )
    [doc] = import_text("t.prompty", text)
    assert "![photo]({{ photo }})" in doc.template
    path = tmp_path / "t.prompty"
    path.write_text(text, encoding="utf-8")
    assert flat(render_messages(doc.template, doc.variables)) == theirs(path)


def test_promptfoo_chat_prompt_carries_image_url_parts(doc: PromptDocument) -> None:
    text = to_promptfoo(doc)
    config = yaml.safe_load(text)
    messages = json.loads(config["prompts"][0]["raw"])
    assert messages[1]["content"] == [
        {"type": "text", "text": "What is in "},
        {"type": "image_url", "image_url": {"url": "{{ photo }}"}},
        {"type": "text", "text": " and "},
        {"type": "image_url", "image_url": {"url": data_url(GIF, "image/gif")}},
        {"type": "text", "text": "? {{ q }}"},
    ]
    assert config["tests"][0]["vars"]["photo"] == data_url(png(4, 4))
    [back] = import_text("promptfooconfig.yaml", text)
    assert "![image]({{ photo }})" in back.template
    again = render_messages(back.template, back.cases[0]["vars"] if back.cases else back.variables)
    assert flat(again) == flat(render_messages(doc.template, doc.variables))


@pytest.mark.parametrize("export", ["python-openai", "python-anthropic", "curl-anthropic"])
def test_code_snippets_send_the_images(
    doc: PromptDocument, tmp_path: Path, fake_llm: FakeLLM, export: str
) -> None:
    anthropic = export.endswith("anthropic")
    url = fake_llm.anthropic_base_url if anthropic else fake_llm.base_url
    profile = "anthropic" if anthropic else "openai"
    column = {"id": "c1", "profile": profile, "base_url": url, "model": "fake-model", "params": {}}
    snippet_doc = replace(doc, columns=columns(column))
    fake_llm.script(Reply(text="Seen."))
    if export == "python-openai":
        code = to_python_openai(snippet_doc, doc.variables)
    elif export == "python-anthropic":
        code = to_python_anthropic(snippet_doc, doc.variables)
    else:
        code = to_curl(snippet_doc, doc.variables)
    if export.startswith("python"):
        (tmp_path / "snippet.py").write_text(code, encoding="utf-8")
        command = [sys.executable, str(tmp_path / "snippet.py")]
    else:
        command = ["bash", "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    [request] = fake_llm.requests
    sent = request.json["messages"][-1]["content"]
    user = next(m for m in render_messages(doc.template, doc.variables) if m.role == "user")
    expected = (anthropic_message(user) if anthropic else user.to_dict())["content"]
    assert sent == expected
    assert sum(1 for part in sent if part["type"] in ("image", "image_url")) == 2


def test_promptstudio_json_carries_the_images_by_hash_and_data(
    doc: PromptDocument, tmp_path: Path
) -> None:
    text = to_json(doc)
    data = json.loads(text)
    assert data["template"] == TEMPLATE and data["variables"] == doc.variables  # exact
    cat, chart = data["images"]
    assert (cat["name"], cat["media_type"], cat["data"]) == (
        "cat",
        "image/png",
        data_url(png(4, 4)).partition(",")[2],
    )
    assert (chart["name"], chart["source"]) == ("chart", "chart.gif")
    back = from_json(text)
    assert replace(back, images=[]) == replace(doc, images=[])
    assert [image.data for image in back.images] == [png(4, 4), GIF]
    with Database(tmp_path / "lib.sqlite3") as db:
        [imported] = db.call(import_documents, [back])
        stored = db.call(library.version_images, imported.version.id)
        assert [(i.name, i.size) for i in stored] == [("cat", len(png(4, 4))), ("chart", len(GIF))]


def test_a_damaged_json_image_is_refused(doc: PromptDocument) -> None:
    data = json.loads(to_json(doc))
    data["images"][0]["sha256"] = "0" * 64
    with pytest.raises(ExchangeError, match="does not match its sha256"):
        from_json(json.dumps(data))
