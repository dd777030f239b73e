"""A version's images: stored once by hash, kept by the history, named in diffs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from promptstudio.chat import Image
from promptstudio.images import image_from_bytes
from promptstudio.storage import Database, library
from promptstudio.storage.schema import schema_version
from tests.images import GIF, data_url, png


def image(data: bytes, alt: str = "photo", source: str = "photo.png") -> Image:
    return image_from_bytes(data, alt, source, what=source)


def test_identical_images_are_stored_once(tmp_path: Path) -> None:
    with Database(tmp_path / "lib.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Look")
        first = db.call(library.save_version, prompt.id, "![photo](photo.png)", {}, {},
                        images=[image(png())])  # fmt: skip
        second = db.call(library.save_version, prompt.id, "Again ![photo](photo.png)", {}, {},
                         images=[image(png()), image(GIF, "g", "g.gif")])  # fmt: skip
        assert db.call(library.count_images) == 2
        [only] = db.call(library.version_images, first.id)
        assert (only.name, only.source, only.media_type, only.size) == (
            "photo",
            "photo.png",
            "image/png",
            len(png()),
        )
        assert [i.sha256 for i in db.call(library.version_images, second.id)] == [
            image(png()).sha256,
            image(GIF).sha256,
        ]
        assert db.call(library.image_bytes, only.sha256 or "") == png()


def test_a_changed_image_file_makes_a_new_version(tmp_path: Path) -> None:
    with Database(tmp_path / "lib.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Look")
        template = "![photo](photo.png)"
        one = db.call(library.save_version, prompt.id, template, {}, {}, images=[image(png())])
        same = db.call(library.save_version, prompt.id, template, {}, {}, images=[image(png())])
        other = db.call(library.save_version, prompt.id, template, {}, {},
                        images=[image(png(shade=9))])  # fmt: skip
        unknown = db.call(library.save_version, prompt.id, template, {}, {}, kind="run")
        assert same.id == one.id and other.id != one.id
        assert unknown.id == other.id  # images not known: the latest is reused as before
        old, new = (db.call(library.version_images, v.id)[0] for v in (one, other))
        assert old.describe() != new.describe()
        assert f"sha256 {new.sha256[:12] if new.sha256 else ''}" in new.describe()
        restored = db.call(library.restore_version, one.id)
        assert db.call(library.version_images, restored.id) == [old]


def test_data_urls_are_not_copied_into_the_listing(tmp_path: Path) -> None:
    with Database(tmp_path / "lib.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Inline")
        url = data_url(png(64, 64))
        version = db.call(library.save_version, prompt.id, "![x]({{ p }})", {"p": "x"}, {},
                          images=[image(png(64, 64), "x", url)])  # fmt: skip
        [listed] = db.call(library.version_images, version.id)
        assert listed.source == "data:image/png;base64,…"


def test_the_migration_adds_the_image_tables(tmp_path: Path) -> None:
    path = tmp_path / "lib.sqlite3"
    with Database(path):
        pass
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"images", "version_images"} <= tables
    finally:
        conn.close()
